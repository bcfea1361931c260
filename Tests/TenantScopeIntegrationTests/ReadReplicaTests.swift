import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import NIOCore
import PostgresNIO
import Prometheus
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Read routing against a real primary and a real streaming replica made with `pg_basebackup -R`: which
/// database answered is checked on the server side (a paused replica answers from before a write the
/// primary has), isolation holds on the replica, a lagging replica is bypassed, and stopping the replica
/// under load loses no request.
@Suite struct ReadReplicaTests {
    static let countStatements = CheckedSQL.unguardedForTesting("SELECT count(*) AS n FROM statements")

    @Test func readsGoToTheReplicaAndALaggingOneIsBypassed() async throws {
        try await ReplicaCluster.with { cluster, handle in
            let fixture = try await TwoTenants.make(handle)
            let scope = fixture.a.tenant.id.testScope
            // Two servers on the same pair: one accepts any lag, one at most 1 s.
            let tolerant = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits,
                                                   replicas: cluster.configuration(maximumLag: .seconds(3600)))
            let strict = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits,
                                                 replicas: cluster.configuration(maximumLag: .seconds(1)))
            try await tolerant.withRunningClients {
                try await strict.withRunningClients {
                    try await cluster.waitUntilReplayed()
                    try await ReplicaCluster.waitUntil(tolerant, replicaFit: true)
                    try await ReplicaCluster.waitUntil(strict, replicaFit: true)
                    let first = try await Self.readUntilTheReplicaAnswers(tolerant, scope)
                    #expect(first.freshness.source == .replica && first.freshness.replica == "replica-1")
                    #expect(first.rows.first?.first?.description == "1")
                    // A loaded machine can send a read to the primary (a connection or probe slower than its bound,
                    // and the strict server's 1 s bound flaps: a probe answered late measures more lag, never less),
                    // so each server is asked until the replica answers, within a bound.
                    let strictFirst = try await Self.readUntilTheReplicaAnswers(strict, scope)
                    #expect(strictFirst.freshness.source == .replica && strictFirst.rows.first?.first?.description == "1")

                    // The replica stops applying WAL; the primary takes a second statement of tenant a, and its
                    // roll-ups catch up past what the replica has.
                    try await RollupService(database: handle.database, logger: TestDatabase.logger).catchUp(fixture.a.tenant.id)
                    try await cluster.waitUntilReplayed()
                    try await cluster.setReplayPaused(true)
                    try await Self.insertStatement(of: fixture.a, handle)
                    try await RollupService(database: handle.database, logger: TestDatabase.logger).catchUp(fixture.a.tenant.id)
                    let onPrimary = try await SQLSandbox(database: handle.database).run(Self.countStatements, in: scope, logger: TestDatabase.logger)
                    #expect(onPrimary.rows.first?.first?.description == "2" && onPrimary.freshness == .primary)

                    // Within its bound the replica still answers, from before the write: the replica answered, not the primary.
                    let stale = try await Self.readUntilTheReplicaAnswers(tolerant, scope)
                    #expect(stale.freshness.source == .replica)
                    #expect(stale.rows.first?.first?.description == "1")
                    // A tenant created on the primary meanwhile has no row on the replica yet: its gate refuses there
                    // (TSM03, migration 51), and the read goes to the primary instead of failing.
                    let newcomer = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("new")), name: "Newcomer",
                                                                         logger: TestDatabase.logger)
                    let fresh = try await SQLSandbox(database: tolerant).run(Self.countStatements, in: newcomer.id.testScope, logger: TestDatabase.logger)
                    #expect(fresh.freshness == .primary && fresh.rows.first?.first?.description == "0")
                    // The report cache keys answers by the primary's roll-up watermark: the replica's answer, computed
                    // at an older one, is not stored under it.
                    let cache = ReportResultCache()
                    let runner = ReportRunner(catalog: try StandardReports.catalog(), database: tolerant, cache: cache)
                    let report = try await runner.run("completion_rate_by_course", in: .tenant(scope), parameters: [], logger: TestDatabase.logger)
                    #expect(report.freshness.source == .replica)
                    #expect(cache.count == 0, "a replica's answer from behind the primary's roll-ups was cached as current")

                    // Nor is ad-hoc SQL's: the sandbox cannot read the replica's watermark, so only the primary's answers
                    // are stored (stored under the primary's watermark, the count from before the write would be served
                    // after replay resumes, until the tenant's roll-ups next change).
                    var sqlFromReplica: SQLResult?
                    for _ in 0..<100 where sqlFromReplica == nil {
                        let sqlCache = ReportResultCache()
                        let service = GuardedSQLService(database: tolerant, cache: sqlCache)
                        let answer = try await service.run("SELECT count(*) AS n FROM statements", in: scope, surface: "api",
                                                           logger: TestDatabase.logger)
                        if answer.freshness.source == .replica {
                            sqlFromReplica = answer
                            #expect(sqlCache.count == 0, "ad-hoc SQL answered by a replica behind the primary was cached as current")
                        }
                    }
                    #expect(sqlFromReplica?.rows.first?.first?.description == "1", "the replica never answered the SQL")

                    // A statements export reads the replica too.
                    let exports = ExportReader(database: tolerant, reports: runner)
                    let exported = Counter()
                    try await exports.read(.statements(since: nil, until: nil), in: scope, rowLimit: 100, timeLimit: .seconds(60), logger: TestDatabase.logger) { _ in
                        exported.add()
                    }
                    #expect(exported.value == 1, "the export read the paused replica's one statement")

                    // Past the strict bound, reads go to the primary without an error and see the write.
                    try await ReplicaCluster.waitUntil(strict, replicaFit: false)
                    let bypassed = try await SQLSandbox(database: strict).run(Self.countStatements, in: scope, logger: TestDatabase.logger)
                    #expect(bypassed.freshness == .primary)
                    #expect(bypassed.rows.first?.first?.description == "2")
                    let lag = try #require(strict.replicas?.replicas.first?.measurement.lagSeconds)
                    #expect(lag > 1)

                    // Replay resumes: the replica catches up and serves again, with the write.
                    try await cluster.setReplayPaused(false)
                    let caughtUp = try await Self.readUntilTheReplicaAnswers(strict, scope)
                    #expect(caughtUp.freshness.source == .replica && caughtUp.rows.first?.first?.description == "2")
                }
            }
        }
    }

    @Test func rowLevelSecurityAndTheSignedContextHoldOnTheReplica() async throws {
        try await ReplicaCluster.with { cluster, handle in
            let fixture = try await TwoTenants.make(handle)
            let tables = try await TwoTenants.tenantTables(handle)
            let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits,
                                                   replicas: cluster.configuration())
            try await database.withRunningClients {
                try await cluster.waitUntilReplayed()
                try await ReplicaCluster.waitUntil(database, replicaFit: true)

                // A tenant transaction on the replica sees its own rows and none of the other tenant's, in every tenant table.
                let a = fixture.a.tenant.id
                let (seen, freshness) = try await database.sessions.runPreferringReplica(.tenant(a.testScope), logger: TestDatabase.logger) { connection in
                    var seen: [String: (mine: Int, others: Int)] = [:]
                    for table in tables {
                        let row = try await connection.query(PostgresQuery(unsafeSQL: """
                            SELECT count(*) FILTER (WHERE tenant_id = '\(a)'), count(*) FILTER (WHERE tenant_id <> '\(a)') FROM \(table)
                            """)).collect().first!.decode((Int, Int).self)
                        seen[table] = row
                    }
                    return seen.mapValues { [$0.mine, $0.others] }
                }
                #expect(freshness.source == .replica)
                for table in tables {
                    #expect(seen[table]?[1] == 0, "\(table): another tenant's rows are visible on the replica")
                }
                #expect((seen["app.statements"]?[0] ?? 0) >= 1, "the tenant's own statement is missing on the replica")

                // The tenant login on the replica: no context is zero rows, a forged context is an error, the genuine one works.
                let tenantLogin = cluster.replicaEndpoint.with(username: Database.tenantLoginRole, password: handle.database.tenantEndpoint.password)
                let signer = try await Self.signer(handle)
                let wrongKey = try TenantContextSigner(keyHex: String(repeating: "42", count: 32))
                let count = { @Sendable (context: String?) async throws -> Int in
                    try await OneShotConnection.with(tenantLogin, logger: TestDatabase.logger) { connection in
                        try await connection.query("BEGIN READ ONLY", logger: TestDatabase.logger)
                        if let context {
                            try await connection.query("SELECT set_config('app.tenant_ctx', \(context), true)", logger: TestDatabase.logger)
                        }
                        try await connection.query("SET LOCAL ROLE tenantscope_tenant", logger: TestDatabase.logger)
                        return try await connection.query("SELECT count(*) FROM app.statements", logger: TestDatabase.logger).collect().first!.decode(Int.self)
                    }
                }
                #expect(try await count(nil) == 0)
                await #expect {
                    _ = try await count(wrongKey.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(300)))
                } throws: { (($0 as? PSQLError)?.serverInfo?[.message] ?? "").contains("invalid tenant context") }
                #expect(try await count(signer.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(300))) == 1)

                // The streaming login the replica was made with passes the schema audit (REPLICATION only).
                let problems = try await OneShotConnection.with(cluster.owner, logger: TestDatabase.logger) { connection in
                    try await SchemaAudit.problems(on: connection, logger: TestDatabase.logger)
                }
                #expect(problems == [])
            }
        }
    }

    @Test func answersSayWhoServedThemAndPlatformReportsAreAuditedOnThePrimary() async throws {
        try await ReplicaCluster.with { cluster, handle in
            let fixture = try await TwoTenants.make(handle)
            let metrics = ServerMetrics(registry: PrometheusCollectorRegistry())
            let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits,
                                                   metrics: metrics.factory, replicas: cluster.configuration())
            let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil),
                                       tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(),
                                       logger: TestDatabase.logger, metrics: metrics)
            try await app.test(.router) { client in
                try await cluster.waitUntilReplayed()
                try await ReplicaCluster.waitUntil(database, replicaFit: true)
                let analyst = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
                try await client.execute(uri: "/api/v1/reports/completion_rate_by_course", method: .get,
                                         headers: [.authorization: "Bearer \(analyst)"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[FreshnessBody.headerName]?.hasPrefix(#"replica; name="replica-1"; lag="#) == true)
                    let freshness = XAPIJSON.object(String(buffer: response.body))["freshness"]?.objectValue
                    #expect(freshness?["source"]?.stringValue == "replica" && freshness?["replica"]?.stringValue == "replica-1")
                }
                try await client.execute(uri: "/api/v1/sql", method: .post, headers: [.authorization: "Bearer \(analyst)", .contentType: "application/json"],
                                         body: ByteBuffer(string: #"{"sql": "SELECT count(*) AS n FROM statements"}"#)) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[FreshnessBody.headerName]?.hasPrefix("replica;") == true)
                    let body = XAPIJSON.object(String(buffer: response.body))
                    #expect(body["rows"]?.arrayValue?.first?.arrayValue?.first?.numberValue == 1, "tenant b's statement counted on the replica")
                    #expect(body["freshness"]?.objectValue?["source"]?.stringValue == "replica")
                }
                // A platform report reads the replica and its audit row is written on the primary (the replica is read only).
                let before = try await Self.auditRows(handle)
                let platform = try await TestTokens.platform()
                try await client.execute(uri: "/api/v1/platform/reports/tenant_overview", method: .get,
                                         headers: [.authorization: "Bearer \(platform)"]) { response in
                    #expect(response.status == .ok)
                    #expect(response.headers[FreshnessBody.headerName]?.hasPrefix("replica;") == true)
                }
                #expect(try await Self.auditRows(handle) == before + 1)
                // The replica's own series, labelled, beside the primary's unlabelled ones.
                let text = metrics.render()
                #expect(text.contains(#"tenantscope_db_replica_lag_seconds{replica="replica-1"} 0"#), "\(text)")
                #expect(text.contains(#"tenantscope_db_replica_up{replica="replica-1"} 1"#))
                #expect(text.contains("tenantscope_db_up 1"))
                // Readiness lists the replica.
                try await client.execute(uri: "/readyz", method: .get) { response in
                    let replicas = XAPIJSON.object(String(buffer: response.body))["replicas"]?.arrayValue
                    #expect(replicas?.first?.objectValue?["name"]?.stringValue == "replica-1")
                    #expect(replicas?.first?.objectValue?["usable"]?.boolValue == true)
                }
                // After a failed read the replica sits out even once the probe finds it well, and readiness says why.
                let replica = try #require(database.replicas?.replicas.first)
                // Dated two minutes ahead so the 5 s sit-out outlasts a slow request on a loaded machine.
                replica.readFailed("a read failed (test)", now: .now + .seconds(120))
                replica.record(lagSeconds: 0)
                try await client.execute(uri: "/readyz", method: .get) { response in
                    let first = XAPIJSON.object(String(buffer: response.body))["replicas"]?.arrayValue?.first?.objectValue
                    #expect(first?["usable"]?.boolValue == false)
                    #expect(first?["problem"]?.stringValue == "skipped for a while after a failed read")
                }
            }
        }
    }

    /// A replica whose own pg_hba.conf refuses the tenant login answers the lag probe (the server role) but
    /// could serve no tenant read: the probe tries the tenant login too, so the replica is reported unusable
    /// for that reason and tenant reads go to the primary; once it accepts the login again it serves them.
    @Test func aReplicaRefusingTheTenantLoginIsNotUsedUntilItAcceptsIt() async throws {
        try await ReplicaCluster.with { cluster, handle in
            let fixture = try await TwoTenants.make(handle)
            let scope = fixture.a.tenant.id.testScope
            try await cluster.setTenantLoginRefused(true)
            // A refused login fails the probe's connection only when the pool gives up waiting for one: 2 s here.
            let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits,
                                                   replicas: cluster.configuration(acquireTimeout: .seconds(2)))
            try await database.withRunningClients {
                try await cluster.waitUntilReplayed()
                let set = try #require(database.replicas)
                var problem: String?
                for _ in 0..<600 where problem == nil {
                    problem = set.replicas[0].measurement.problem.flatMap { $0.contains("tenant login") ? $0 : nil }
                    if problem == nil { try await Task.sleep(for: .milliseconds(50)) }
                }
                #expect(problem != nil, "the probe did not notice the refused tenant login: \(set.replicas[0].measurement)")
                #expect(!set.isUsable(set.replicas[0]))
                let answer = try await SQLSandbox(database: database).run(Self.countStatements, in: scope, logger: TestDatabase.logger)
                #expect(answer.freshness == .primary && answer.rows.first?.first?.description == "1")

                try await cluster.setTenantLoginRefused(false)
                let served = try await Self.readUntilTheReplicaAnswers(database, scope)
                #expect(served.freshness.source == .replica && served.rows.first?.first?.description == "1")
            }
        }
    }

    @Test func stoppingTheReplicaUnderLoadLosesNoRequest() async throws {
        try await ReplicaCluster.with { cluster, handle in
            let fixture = try await TwoTenants.make(handle)
            let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits,
                                                   replicas: cluster.configuration())
            let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil, reportCacheBytes: 0),
                                       tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(),
                                       logger: TestDatabase.logger)
            try await app.test(.router) { client in
                try await cluster.waitUntilReplayed()
                try await ReplicaCluster.waitUntil(database, replicaFit: true)
                let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
                let outcomes = Outcomes()
                let stop = StopSignal()
                // Four clients ask for reports back to back; the replica is stopped while they do.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            while !stop.isSet {
                                try await client.execute(uri: "/api/v1/reports/completion_rate_by_course", method: .get,
                                                         headers: [.authorization: "Bearer \(token)"]) { response in
                                    outcomes.add(status: response.status.code, source: response.headers[FreshnessBody.headerName] ?? "")
                                }
                            }
                        }
                    }
                    group.addTask {
                        while outcomes.count(fromReplica: true) < 20 { try await Task.sleep(for: .milliseconds(20)) }
                        try await cluster.replica.stop()
                        let stoppedAt = outcomes.total
                        while outcomes.total < stoppedAt + 40 { try await Task.sleep(for: .milliseconds(20)) }
                        stop.set()
                    }
                    try await group.waitForAll()
                }
                #expect(outcomes.statuses.allSatisfy { $0 == 200 }, "statuses: \(Set(outcomes.statuses))")
                #expect(outcomes.count(fromReplica: true) >= 20)
                #expect(outcomes.count(fromReplica: false) >= 30, "after the stop, reads went to the primary")
            }
        }
    }

    // MARK: - Helpers

    /// One more statement of `member`, ingested as the LRS does (so its day is queued for the roll-ups).
    static func insertStatement(of member: TwoTenants.Member, _ handle: TestDatabase) async throws {
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "replica-test"])
        let statements = RandomStatements.make(seed: 7, count: 1, start: Date().addingTimeInterval(-86_400), spanDays: 1, host: "replica.example")
        _ = try await handle.database.statements.store(try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator),
                                                       in: member.tenant.id.testScope, logger: TestDatabase.logger)
    }

    /// Counts statements through `database` until the replica answers (each read waiting for the replica to be fit
    /// first), for at most a minute; the last answer is returned either way, for the caller's expectations.
    static func readUntilTheReplicaAnswers(_ database: Database, _ scope: TenantScope) async throws -> SQLResult {
        let deadline = ContinuousClock.now + .seconds(60)
        while true {
            try await ReplicaCluster.waitUntil(database, replicaFit: true)
            let answer = try await SQLSandbox(database: database).run(countStatements, in: scope, logger: TestDatabase.logger)
            if answer.freshness.source == .replica || ContinuousClock.now > deadline { return answer }
            try await Task.sleep(for: .milliseconds(100))
        }
    }

    static func signer(_ handle: TestDatabase) async throws -> TenantContextSigner {
        let key = try await OneShotConnection.with(handle.database.appEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT tenant_context_key FROM app.runtime_keys()", logger: TestDatabase.logger).collect().first!.decode(String.self)
        }
        return try TenantContextSigner(keyHex: key)
    }

    static func auditRows(_ handle: TestDatabase) async throws -> Int {
        try await handle.admin.auditTrail.tail(limit: 10_000, logger: TestDatabase.logger).count
    }
}

/// What the load clients saw, shared between their tasks.
private final class Outcomes: @unchecked Sendable {
    private let lock = NSLock()
    private var seen: [(status: Int, source: String)] = []

    func add(status: Int, source: String) { lock.withLock { seen.append((status, source)) } }
    var total: Int { lock.withLock { seen.count } }
    var statuses: [Int] { lock.withLock { seen.map(\.status) } }
    func count(fromReplica: Bool) -> Int { lock.withLock { seen.filter { $0.source.hasPrefix("replica") == fromReplica }.count } }
}

private final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}

private final class StopSignal: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    var isSet: Bool { lock.withLock { value } }
    func set() { lock.withLock { value = true } }
}
