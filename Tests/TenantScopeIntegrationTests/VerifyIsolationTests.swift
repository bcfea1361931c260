import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// `tenantscope verify-isolation` against a real `serve` on a database of the suite's own: a clean
/// deployment has no finding, and a leak planted in the schema or in a policy makes it fail, naming it.
/// Serialized: the planted leaks change the database for every test of the suite while they stand.
@Suite(.freshDatabase, .serialized) struct VerifyIsolationTests {
    /// A running `serve` on the suite's database (its state directory holds the token keys the probe uses).
    static func serve(_ handle: TestDatabase) async throws -> ServeProcess {
        try await ServeProcess.start(root: try ServeProcess.makeRoot("tenantscope-verify"),
                                     arguments: ["--database-url", handle.ownerEndpoint.url, "--rollup-interval", "1"])
    }

    struct Run {
        var status: Int32
        var output: String
        var report: JSONValue

        var checks: [JSONValue] { report["checks"]?.arrayValue ?? [] }
        func checks(_ outcome: String) -> [JSONValue] { checks.filter { $0["outcome"]?.stringValue == outcome } }
        var findings: [String] {
            checks("finding").map { "\($0["area"]?.stringValue ?? "") \($0["attempt"]?.stringValue ?? "") — \($0["credential"]?.stringValue ?? ""): \($0["detail"]?.stringValue ?? "")" }
        }
    }

    static func verify(_ server: ServeProcess, _ handle: TestDatabase) async throws -> Run {
        let reports = server.stateDirectory + "/isolation-\(UUID().uuidString.prefix(8))"
        let result = try await TenantScopeBinary.run([
            "verify-isolation", "--server-url", server.baseURL, "--database-url", handle.ownerEndpoint.url, "--state-dir", server.stateDirectory,
            "--report-dir", reports,
        ])
        let data = try #require(FileManager.default.contents(atPath: reports + "/isolation-report.json"), "no report: \(result.output)")
        #expect(FileManager.default.fileExists(atPath: reports + "/isolation-report.html"))
        return Run(status: result.status, output: result.output, report: try JSONParser.parse(Array(data)))
    }

    /// The probe tenants are gone after every run, whatever it found.
    static func expectNoProbeTenantsLeft(_ handle: TestDatabase) async throws {
        let left = try await handle.database.tenants.list(logger: TestDatabase.logger).filter { $0.slug.rawValue.hasPrefix("probe-") }
        #expect(left.isEmpty, "probe tenants left behind: \(left.map(\.slug))")
    }

    @Test(.timeLimit(.minutes(10)))
    func aCleanDeploymentHasNoFinding() async throws {
        let handle = try TestDatabase.current
        let server = try await Self.serve(handle)
        let run: Run
        do {
            run = try await Self.verify(server, handle)
            await server.shutDown()
        } catch {
            await server.shutDown()
            throw error
        }
        #expect(run.status == 0, "findings: \(run.findings)\n\(run.output)")
        #expect(run.findings.isEmpty)
        #expect(run.checks("error").isEmpty, "\(run.checks("error"))")
        #expect(run.report["summary"]?["verdict"]?.stringValue == "isolated")
        // It did what it says: hundreds of requests over every route, the escapes as three roles, controls that pass.
        #expect((run.report["summary"]?["http_requests"]?.numberValue ?? 0) > 300)
        #expect((run.report["summary"]?["database_attempts"]?.numberValue ?? 0) > 100)
        let credentials = Set(run.checks.filter { $0["area"]?.stringValue == "http" }.compactMap { $0["credential"]?.stringValue })
        #expect(credentials.isSuperset(of: ["no credential", "tenant B viewer token", "tenant B admin token", "tenant B LRS key",
                                            "tenant B viewer dashboard session", "tenant B admin dashboard session", "tenant B shared link",
                                            "platform token"]), "\(credentials)")
        #expect(run.checks.contains { $0["area"]?.stringValue == "control" && $0["outcome"]?.stringValue == "passed" })
        #expect(run.checks("accepted").contains { ($0["attempt"]?.stringValue ?? "").contains("reltuples") })
        // Ad-hoc SQL, the MCP tool and A's custom report were tried as B (the SQL surface's probes).
        let attempts = run.checks.compactMap { $0["attempt"]?.stringValue }
        #expect(attempts.contains { $0.hasPrefix("POST /api/v1/sql {\"sql\": \"SELECT * FROM semantic.statements") })
        #expect(attempts.contains { $0.hasPrefix("POST /mcp tools/call run_sql") })
        #expect(attempts.contains { $0 == "GET /api/v1/custom-reports/<A's report>" })
        // The platform asked for every kind of export that names A's learners, and was refused each.
        let platformExports = run.checks.filter { ($0["attempt"]?.stringValue ?? "").hasPrefix("POST /api/v1/platform/tenants/<A's slug>/exports") }
        #expect(platformExports.count == 3 + ExportSource.learnerLevelReports.count, "\(platformExports)")
        #expect(platformExports.allSatisfy { $0["outcome"]?.stringValue == "refused" && $0["status"]?.stringValue == "403" }, "\(platformExports)")
        #expect(run.output.contains("verify-isolation: isolated"))
        // No warning or error line: the pools run before the command's first query (PoolRunner.waitUntilRunning).
        #expect(!run.output.contains(" warning ") && !run.output.contains(" error "), "\(run.output)")
        try await Self.expectNoProbeTenantsLeft(handle)
        // Deleted through the server, which took their export files with them (probe 38: each run left the files of the
        // jobs the walk had queued in the server's store).
        let cleanup = run.checks.filter { $0["area"]?.stringValue == "cleanup" }
        #expect(cleanup.count == 2 && cleanup.allSatisfy { $0["credential"]?.stringValue == "platform token" && $0["outcome"]?.stringValue == "passed" },
                "\(cleanup)")
        let exports = server.stateDirectory + "/exports"
        for member in ["victim_a", "attacker_b"] {
            let id = try #require(run.report["probe_tenants"]?[member]?["tenant_id"]?.stringValue)
            #expect(!FileManager.default.fileExists(atPath: exports + "/" + id), "the \(member)'s export files are gone")
        }
        let audit = try await handle.admin.auditTrail.tail(limit: 50, logger: TestDatabase.logger)
        #expect(audit.contains { $0.entry.action == "isolation_verified" && $0.entry.outcome == "ok" })
    }

    /// A second permissive policy lets the tenant role read every tenant's statements: the canary shows
    /// up over HTTP (B's LRS key reads A's statements) and in the database, and the run fails naming both.
    @Test(.timeLimit(.minutes(10)))
    func aLeakingPolicyIsAFinding() async throws {
        let handle = try TestDatabase.current
        try await Self.owner(handle, "CREATE POLICY verify_isolation_leak ON app.statements FOR SELECT TO tenantscope_tenant USING (true)")
        let server = try await Self.serve(handle)
        do {
            let run = try await Self.verify(server, handle)
            await server.shutDown()
            try await Self.owner(handle, "DROP POLICY verify_isolation_leak ON app.statements")
            #expect(run.status == 1, "\(run.output)")
            #expect(run.report["summary"]?["verdict"]?.stringValue == "findings")
            #expect(run.findings.contains { $0.hasPrefix("http GET /xAPI/statements") && $0.contains("A's canary") }, "\(run.findings)")
            #expect(run.findings.contains { $0.hasPrefix("database read all of app.statements") && $0.contains("tenant role") }, "\(run.findings)")
            #expect(run.output.contains("FINDING: "))
            try await Self.expectNoProbeTenantsLeft(handle)
        } catch {
            await server.shutDown()
            try? await Self.owner(handle, "DROP POLICY IF EXISTS verify_isolation_leak ON app.statements")
            throw error
        }
    }

    /// A grant that breaks a schema rule (the platform may read learner-level rows) is a finding by name.
    @Test(.timeLimit(.minutes(10)))
    func aBrokenSchemaRuleIsAFinding() async throws {
        let handle = try TestDatabase.current
        try await Self.owner(handle, "GRANT SELECT ON app.learner_active_days TO tenantscope_platform")
        let server = try await Self.serve(handle)
        do {
            let run = try await Self.verify(server, handle)
            await server.shutDown()
            try await Self.owner(handle, "REVOKE SELECT ON app.learner_active_days FROM tenantscope_platform")
            #expect(run.status == 1, "\(run.output)")
            #expect(run.findings.contains { $0.contains("tenantscope_platform may read learner-level rows: app.learner_active_days") },
                    "\(run.findings)")
            try await Self.expectNoProbeTenantsLeft(handle)
        } catch {
            await server.shutDown()
            try? await Self.owner(handle, "REVOKE SELECT ON app.learner_active_days FROM tenantscope_platform")
            throw error
        }
    }

    static func owner(_ handle: TestDatabase, _ sql: String) async throws {
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).collect()
        }
    }
}
