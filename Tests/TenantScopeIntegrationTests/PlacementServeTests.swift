import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Tenant placement end to end, as an operator and a client see it: the built `tenantscope` places a tenant
/// on a dedicated cluster (and refuses one of another region), a running `serve` stores its statements
/// there, answers a platform report naming every cluster, holds the tenant's writes with 503 and
/// `Retry-After` while a move has them, and after `tenant move` serves the tenant from its new cluster.
@Suite(.serialized) struct PlacementServeTests {
    static func value(_ prefix: String, in output: String) -> String {
        output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) } ?? ""
    }

    /// Runs `tenantscope verify-isolation` against `serve`: its exit status and output, and the attempts of its
    /// checks and of its findings from the JSON report.
    static func verifyIsolation(_ serve: ServeProcess, options: [String], root: String) async throws
        -> (status: Int32, output: String, attempts: [String], findings: [String]) {
        let reports = root + "/isolation-" + UUID().uuidString.prefix(8)
        let run = try await TenantScopeBinary.run(["verify-isolation", "--server-url", serve.baseURL, "--report-dir", reports] + options)
        let data = try #require(FileManager.default.contents(atPath: reports + "/isolation-report.json"), "no report: \(run.output)")
        let checks = (try JSONSerialization.jsonObject(with: data) as? [String: Any])?["checks"] as? [[String: Any]] ?? []
        let attempts = checks.compactMap { $0["attempt"] as? String }
        let findings = checks.filter { $0["outcome"] as? String == "finding" }.compactMap { $0["attempt"] as? String }
        return (run.status, run.output, attempts, findings)
    }

    /// Runs `sql` as the owner of a cluster's TenantScope database.
    static func asOwner(of cluster: ClusterName, in clusters: PlacementClusters, _ sql: String) async throws {
        try await OneShotConnection.with(clusters.dedicated[cluster]!, logger: TestDatabase.logger) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).collect()
        }
    }

    static func json(_ body: String) -> [String: Any]? {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any]
    }

    static func batch(_ count: Int) -> String {
        "[" + RandomStatements.make(seed: .random(in: 0...UInt64.max), count: count, start: Date().addingTimeInterval(-3 * 86_400), spanDays: 3)
            .joined(separator: ",") + "]"
    }

    @Test func theCommandLineAndTheServerPlaceRouteAndMoveATenant() async throws {
        try await PlacementClusters.with { clusters in
            let root = try ServeProcess.makeRoot("placement-serve")
            let options = ["--database-url", clusters.control.url, "--state-dir", root + "/state"]
            let slug = "bigco-" + UUID().uuidString.prefix(6).lowercased()

            let wrongRegion = try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "BigCo", "--region", "us", "--cluster", "eu-1"] + options)
            #expect(wrongRegion.status != 0 && wrongRegion.output.contains("residency"), "\(wrongRegion.output)")
            let created = try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "BigCo", "--region", "eu", "--cluster", "eu-1"] + options)
            #expect(created.status == 0 && created.output.contains("on the cluster eu-1"), "\(created.output)")
            let listed = try await TenantScopeBinary.run(["cluster", "list"] + options)
            #expect(listed.status == 0, "\(listed.output)")
            #expect(listed.output.split(separator: "\n").contains { $0.hasPrefix("eu-1") && $0.contains(" eu ") && $0.contains(" 1 ") }, "\(listed.output)")
            let holding = try await TenantScopeBinary.run(["cluster", "remove", "eu-1"] + options)
            #expect(holding.status != 0 && holding.output.contains("tenants are placed on the cluster 'eu-1'"), "\(holding.output)")
            let pool = try await TenantScopeBinary.run(["cluster", "remove", "pool"] + options)
            #expect(pool.status != 0 && pool.output.contains("cannot be removed"), "\(pool.output)")
            let tenants = try await TenantScopeBinary.run(["tenant", "list"] + options)
            #expect(tenants.output.split(separator: "\n").contains { $0.hasPrefix(slug) && $0.contains("eu-1") }, "\(tenants.output)")
            let key = try await TenantScopeBinary.run(["lrs-key", "create", "--tenant", slug, "--label", "placement"] + options)
            try #require(key.status == 0, "\(key.output)")
            let (lrsKey, lrsSecret) = (Self.value("key:", in: key.output), Self.value("secret:", in: key.output))
            let platformToken = try await TenantScopeBinary.run(["token", "--platform", "--operator", "ops"] + options)
            let bearer = try #require(platformToken.output.split(separator: "\n").last { $0.split(separator: ".").count == 3 }.map(String.init))
            let tenant = try #require(try await clusters.database.tenants.find(slug: TenantSlug(slug), logger: TestDatabase.logger))

            let serve = try await ServeProcess.start(root: root, arguments: ["--database-url", clusters.control.url])
            do {
                let client = ServeClient(baseURL: serve.baseURL, timeout: .seconds(60))
                let stored = await client.postStatements(Self.batch(5), key: lrsKey, secret: lrsSecret)
                #expect(stored.status == 200, "\(stored)")
                #expect(try await clusters.count("app.statements", of: tenant.id, on: PlacementClusters.eu) == 5)
                #expect(try await clusters.count("app.statements", of: tenant.id, on: .pool) == 0)

                let ready = await client.get("/readyz")
                let readyClusters = (Self.json(ready.body)?["clusters"] as? [[String: Any]])?
                    .map { "\($0["name"] as? String ?? "")=\(($0["ready"] as? Bool) == true)" }
                #expect(ready.status == 200 && readyClusters == ["any-1=true", "eu-1=true"], "\(ready)")

                let overview = await client.get("/api/v1/platform/reports/tenant_overview", bearer: bearer)
                #expect(overview.status == 200, "\(overview)")
                let coverage = Self.json(overview.body)?["clusters"] as? [String: Any]
                #expect(coverage?["answered"] as? [String] == ["pool", "any-1", "eu-1"] && (coverage?["missing"] as? [Any])?.isEmpty == true,
                        "\(overview.body)")

                // A move's hold on the tenant's writes, taken by hand on its cluster: 503 with Retry-After, nothing stored.
                try await OneShotConnection.with(clusters.superusers[PlacementClusters.eu]!, logger: TestDatabase.logger) { connection in
                    _ = try await connection.query("SELECT pg_advisory_lock(hashtextextended(\("tenantscope.move.\(tenant.id)"), 0))",
                                                   logger: TestDatabase.logger).collect()
                    let held = await client.postStatements(Self.batch(3), key: lrsKey, secret: lrsSecret)
                    #expect(held.status == 503 && held.retryAfter != nil, "\(held)")
                    _ = try await connection.query("SELECT pg_advisory_unlock_all()", logger: TestDatabase.logger).collect()
                }
                #expect(try await clusters.count("app.statements", of: tenant.id, on: PlacementClusters.eu) == 5)

                let moved = try await TenantScopeBinary.run(["tenant", "move", slug, "--to", "pool"] + options)
                #expect(moved.status == 0 && moved.output.contains("Moved \(slug) from eu-1 to pool"), "\(moved.output)")
                // The server learns the new placement within a second; until then the gate answers 503, never the old cluster.
                var after = await client.postStatements(Self.batch(4), key: lrsKey, secret: lrsSecret)
                for _ in 0..<50 where after.status == 503 {
                    try await Task.sleep(for: .milliseconds(100))
                    after = await client.postStatements(Self.batch(4), key: lrsKey, secret: lrsSecret)
                }
                #expect(after.status == 200, "\(after)")
                #expect(try await clusters.count("app.statements", of: tenant.id, on: .pool) == 9)
                #expect(try await clusters.count("app.statements", of: tenant.id, on: PlacementClusters.eu) == 0)
                let audit = try await TenantScopeBinary.run(["audit", "tail", "--limit", "50"] + options)
                #expect(audit.output.contains("tenant_moved") && audit.output.contains("tenant_move_started"), "\(audit.output)")

                // verify-isolation checks every dedicated cluster's database too: clean, then with a leaking policy
                // planted in eu-1 only, which it must find and name there.
                let clean = try await Self.verifyIsolation(serve, options: options, root: root)
                #expect(clean.status == 0, "\(clean.output)")
                #expect(clean.attempts.contains { $0.hasPrefix("[cluster eu-1] ") } && clean.attempts.contains { $0.hasPrefix("[cluster any-1] ") })
                let plantLeak = "CREATE POLICY placement_leak ON app.statements FOR SELECT TO tenantscope_tenant USING (true)"
                try await Self.asOwner(of: PlacementClusters.eu, in: clusters, plantLeak)
                let leaking = try await Self.verifyIsolation(serve, options: options, root: root)
                try await Self.asOwner(of: PlacementClusters.eu, in: clusters, "DROP POLICY placement_leak ON app.statements")
                #expect(leaking.status == 1, "\(leaking.output)")
                #expect(!leaking.findings.isEmpty && leaking.findings.allSatisfy { $0.hasPrefix("[cluster eu-1] ") }, "\(leaking.findings)")
                await serve.shutDown()
            } catch {
                await serve.shutDown()
                throw error
            }
        }
    }
}
