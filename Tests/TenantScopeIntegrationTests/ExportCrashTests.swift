import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A real `serve` killed (SIGKILL) in the middle of an export: nothing is lost or duplicated. After a
/// restart the job is taken over once its lease runs out, retried from the start into a new object
/// (attempt 2), the dead attempt's partial file is removed, and the finished file holds every row once.
@Suite(.serialized) struct ExportCrashTests {
    /// Enough that a gzip export takes seconds in a debug build; a faster machine gets five tries to catch one mid-way.
    static let statements = 30_000

    @Test func anExportCutShortByACrashIsRetriedFromTheStartAndFinishesOnce() async throws {
        let root = try ServeProcess.makeRoot("export-crash")
        let arguments = ["--export-lease", "2", "--rollup-interval", "3600"]
        var serve = try await ServeProcess.start(root: root, arguments: arguments)
        try await FaultToleranceTests.finally(serve) {
            let tenant = try await FaultToleranceTests.createTenant(on: serve)
            try await Self.load(Self.statements, into: tenant.slug, on: serve)
            let admin = try await Self.adminToken(for: tenant.slug, on: serve)
            // The server's credential cache learns of a new tenant within about a second (its refresh interval, later on
            // a loaded machine); until then the tenant's tokens are refused as an unknown tenant's. A hang detector only.
            let warm = ServeClient(baseURL: serve.baseURL, timeout: .seconds(60))
            var known = await warm.get("/api/v1/exports", bearer: admin)
            for _ in 0..<600 where known.status == 401 {
                try await Task.sleep(for: .milliseconds(100))
                known = await warm.get("/api/v1/exports", bearer: admin)
            }
            try #require(known.status == 200, "\(known)")
            let partials = URL(fileURLWithPath: serve.stateDirectory).appendingPathComponent("exports/.partial")

            // Create exports until one is caught running with a partial file (a fast machine may finish one first).
            var caught: String?
            for _ in 0..<5 where caught == nil {
                let client = ServeClient(baseURL: serve.baseURL, timeout: .seconds(60))
                let created = await client.post("/api/v1/exports", json: #"{"statements": {}, "format": "ndjson", "gzip": true}"#, bearer: admin)
                try #require(created.status == 202, "\(created)")
                let id = try #require(XAPIJSON.object(created.body)["id"]?.stringValue)
                let deadline = ContinuousClock.now + .seconds(120)
                while ContinuousClock.now < deadline {
                    let state = XAPIJSON.object(await client.get("/api/v1/exports/\(id)", bearer: admin).body)["state"]?.stringValue
                    let partial = (try? FileManager.default.contentsOfDirectory(atPath: partials.path))?.contains { $0.hasPrefix(id + ".attempt-1") } ?? false
                    if state == "running" && partial {
                        serve.send(SIGKILL)
                        caught = id
                        break
                    }
                    if state == "done" || state == "failed" { break }
                    try await Task.sleep(for: .milliseconds(20))
                }
            }
            let id = try #require(caught, "no export was caught mid-way in five tries")
            #expect(await serve.waitForExit(within: .seconds(30)))
            #expect(try FileManager.default.contentsOfDirectory(atPath: partials.path).contains { $0.hasPrefix(id + ".attempt-1") },
                    "the dead attempt left its partial file")

            // Restarted on the same state directory: the job is taken over and finishes.
            await serve.shutDown()
            serve = try await ServeProcess.start(root: root, logName: "serve-restarted", arguments: arguments)
            let client = ServeClient(baseURL: serve.baseURL, timeout: .seconds(60))
            var status: JSONObject = [:]
            let deadline = ContinuousClock.now + .seconds(300)
            while ContinuousClock.now < deadline {
                status = XAPIJSON.object(await client.get("/api/v1/exports/\(id)", bearer: admin).body)
                if status["state"]?.stringValue == "done" || status["state"]?.stringValue == "failed" { break }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(status["state"] == "done", "\(status)")
            #expect(status["attempts"] == .number("2"), "\(status)")
            #expect(status["rows"] == .number(String(Self.statements)))
            #expect(!(try FileManager.default.contentsOfDirectory(atPath: partials.path).contains { $0.hasPrefix(id) }),
                    "no partial file of the job is left")
            // The file holds every statement exactly once.
            let file = URL(fileURLWithPath: serve.stateDirectory).appendingPathComponent("exports/\(try await Self.tenantID(tenant.slug, on: serve))/\(id).ndjson.gz")
            let lines = try await ExportHTTPTests.gunzip(Array(try Data(contentsOf: file))).split(separator: "\n")
            #expect(lines.count == Self.statements)
            #expect(Set(lines.compactMap { XAPIJSON.object(String($0))["id"]?.stringValue }).count == Self.statements)

            try await Self.commandLine(serve: serve, slug: tenant.slug, id: id, file: file)
        }
        await serve.shutDown()
    }

    /// The operator's commands on the same job: listed, shown, downloaded (byte for byte), and not found
    /// from another tenant.
    static func commandLine(serve: ServeProcess, slug: String, id: String, file: URL) async throws {
        let state = ["--state-dir", serve.stateDirectory]
        // Each command's audit row names the operator (probe 38: list and show left none, the download named the link).
        let operatorUser = ["USER": "export-cli-probe", "SUDO_USER": "export-cli-probe"]
        let list = try await TenantScopeBinary.run(["export", "list", "--tenant", slug] + state, environment: operatorUser)
        #expect(list.status == 0 && list.output.contains(id) && list.output.contains("done"), "\(list.output)")
        let show = try await TenantScopeBinary.run(["export", "show", "--tenant", slug, id] + state, environment: operatorUser)
        #expect(show.status == 0 && show.output.contains("\"download_url\""), "\(show.output)")
        let saved = serve.root + "/downloaded.ndjson.gz"
        let download = try await TenantScopeBinary.run(["export", "download", "--tenant", slug, id, "--output", saved] + state,
                                                       environment: operatorUser)
        let tail = try await TenantScopeBinary.run(["audit", "tail", "--limit", "40"] + state)
        let rows = tail.output.split(separator: "\n").filter { $0.contains("cli:export-cli-probe") }
        for action in ["exports_listed", "export_status_read", "export_downloaded"] {
            #expect(rows.filter { $0.contains("  \(action)") }.count == 1,
                    "\(action) once, naming the operator:\n\(tail.output)")
        }
        #expect(download.status == 0, "\(download.output)")
        #expect(FileManager.default.contents(atPath: saved) == FileManager.default.contents(atPath: file.path))
        let other = try await FaultToleranceTests.createTenant(on: serve)
        let foreign = try await TenantScopeBinary.run(["export", "show", "--tenant", other.slug, id] + state)
        #expect(foreign.status != 0 && foreign.output.contains("no export with that id"), "\(foreign.output)")
    }

    /// Writes `count` statements for the tenant straight into the table as the cluster's superuser (fast;
    /// the LRS path is not what this test is about).
    static func load(_ count: Int, into slug: String, on serve: ServeProcess) async throws {
        _ = try await OneShotConnection.with(try await serve.superuserEndpoint(), logger: TestDatabase.logger) { connection in
            try await connection.query("""
                INSERT INTO app.statements (tenant_id, id, statement, actor_key, verb_id, object_id, "timestamp", stored)
                SELECT t.id, s.id,
                       jsonb_build_object('id', s.id, 'actor', jsonb_build_object('mbox', 'mailto:learner' || (s.g % 500) || '@crash.example'),
                                          'verb', jsonb_build_object('id', 'http://adlnet.gov/expapi/verbs/experienced'),
                                          'object', jsonb_build_object('id', 'https://crash.example/activity/' || (s.g % 50)),
                                          'timestamp', to_char(now() - (s.g || ' seconds')::interval, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')),
                       'mbox:mailto:learner' || (g % 500) || '@crash.example', 'http://adlnet.gov/expapi/verbs/experienced',
                       'https://crash.example/activity/' || (s.g % 50), now() - (s.g || ' seconds')::interval, now()
                FROM app.tenants t, (SELECT g, gen_random_uuid() AS id FROM generate_series(1, \(count)) g) s
                WHERE t.slug = \(slug)
                """, logger: TestDatabase.logger)
        }
    }

    static func tenantID(_ slug: String, on serve: ServeProcess) async throws -> String {
        try await OneShotConnection.with(try await serve.superuserEndpoint(), logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT id::text FROM app.tenants WHERE slug = \(slug)", logger: TestDatabase.logger)
                .collect().first?.decode(String.self) ?? ""
        }
    }

    static func adminToken(for slug: String, on serve: ServeProcess) async throws -> String {
        let result = try await TenantScopeBinary.run(["token", "--tenant", slug, "--role", "admin", "--state-dir", serve.stateDirectory])
        try #require(result.status == 0, "\(result.output)")
        return try #require(result.output.split(separator: "\n").last { $0.split(separator: ".").count == 3 }.map(String.init))
    }
}
