import Foundation
import PostgresNIO
import Synchronization
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Tenant placement over three real clusters (architecture decision 49): a tenant's rows live on its
/// cluster only and are served from there, residency refuses another region, deletion works wherever the
/// tenant lives, and platform reports over the clusters answer what one cluster holding every tenant does.
@Suite(.serialized, .freshDatabase) struct TenantPlacementTests {
    static let logger = TestDatabase.logger
    static let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "placement-test"])

    /// One tenant's test data: statements over the last three weeks and a few feature events.
    /// `now` dates the data: two loads meant to hold the same data must share it, or a statement near midnight
    /// falls on another day in one of them.
    static func load(_ tenant: TenantID, seed: UInt64, now: Date, into database: Database) async throws {
        let statements = RandomStatements.make(seed: seed, count: 40, start: now.addingTimeInterval(-20 * 86_400), spanDays: 21,
                                               host: "placement\(seed).example")
        _ = try await database.statements.store(try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator),
                                                in: tenant.testScope, logger: logger)
        let events = (0..<Int(seed % 4 + 2)).map { index in
            FeatureEvent(id: DeterministicUUID.make("placement-\(seed)-\(index)"), featureKey: ["dashboards", "exports", "sso"][index % 3],
                         actor: "actor-\(index % 2)", occurredAt: now.addingTimeInterval(Double(-index) * 86_400))
        }
        _ = try await database.featureEvents.store(events, in: tenant.testScope, logger: logger)
    }

    /// The same three tenants (slug, region, data) in `admin`'s database, each on the cluster `place` gives it.
    static func makeTenants(in admin: AdminDatabase, suffix: String, now: Date = Date(), place: (Int) -> ClusterName) async throws -> [Tenant] {
        var tenants: [Tenant] = []
        for (index, region) in ["default", "eu", "us"].enumerated() {
            let tenant = try await admin.tenants.create(slug: TenantSlug("place-\(index)-\(suffix)"), name: "Placement \(index)", region: region,
                                                        cluster: place(index), logger: logger)
            try await load(tenant.id, seed: UInt64(100 + index), now: now, into: admin.runtime)
            tenants.append(tenant)
        }
        try await RollupService(database: admin.runtime, logger: logger).pass(among: Set(tenants.map(\.id)))
        return tenants
    }

    static func platformScope() throws -> DataScope {
        try ScopePolicy.scope(for: .platformAdmin(operator: "placement-tests"), on: .platform, purpose: "placement tests")
    }

    @Test func aTenantsRowsLiveOnItsClusterOnlyAndAreServedFromThere() async throws {
        try await PlacementClusters.with { clusters in
            let suffix = String(UUID().uuidString.prefix(6)).lowercased()
            let tenants = try await Self.makeTenants(in: clusters.admin, suffix: suffix) { [.pool, PlacementClusters.eu, PlacementClusters.any][$0] }
            let placed: [(Tenant, ClusterName)] = zip(tenants, [.pool, PlacementClusters.eu, PlacementClusters.any]).map { ($0, $1) }
            for (tenant, home) in placed {
                #expect(tenant.cluster == home)
                for cluster in [ClusterName.pool, PlacementClusters.eu, PlacementClusters.any] {
                    let statements = try await clusters.count("app.statements", of: tenant.id, on: cluster)
                    let rollups = try await clusters.count("app.daily_active_learners", of: tenant.id, on: cluster)
                    let events = try await clusters.count("app.feature_events", of: tenant.id, on: cluster)
                    if cluster == home {
                        #expect(statements == 40 && rollups > 0 && events > 0, "\(tenant.slug) on its cluster \(cluster)")
                    } else {
                        #expect(statements == 0 && rollups == 0 && events == 0, "\(tenant.slug) has rows on \(cluster), not its cluster")
                    }
                }
                // Served through the one scoped helper, from the tenant's own cluster.
                let seen = try await clusters.database.sessions.run(tenant.id.testScope, logger: Self.logger) { connection in
                    try await connection.query("SELECT count(*)::int FROM app.statements").collect().first!.decode(Int.self)
                }
                #expect(seen == 40)
            }

            // Deletion works wherever the tenant lives: its rows go from its cluster and from the directory.
            let dedicated = tenants[1]
            let deleted = try await clusters.database.tenants.delete(slug: dedicated.slug, logger: Self.logger)
            #expect(deleted?.id == dedicated.id)
            #expect(try await clusters.count("app.statements", of: dedicated.id, on: PlacementClusters.eu) == 0)
            #expect(try await clusters.database.tenants.find(slug: dedicated.slug, logger: Self.logger) == nil)
            let leftOnTheCluster = try await OneShotConnection.with(clusters.superusers[PlacementClusters.eu]!, logger: Self.logger) { connection in
                try await connection.query("SELECT count(*)::int FROM app.tenants WHERE id = \(dedicated.id.rawValue)", logger: Self.logger)
                    .collect().first!.decode(Int.self)
            }
            #expect(leftOnTheCluster == 0)
        }
    }

    /// Shared links are resolved through the link index of every cluster: a link opens its own tenant's view,
    /// wherever that tenant lives, and never another's.
    @Test func aSharedLinkOpensItsOwnTenantsViewOnWhicheverCluster() async throws {
        try await PlacementClusters.with { clusters in
            let suffix = String(UUID().uuidString.prefix(6)).lowercased()
            let onPool = try await clusters.admin.tenants.create(slug: TenantSlug("link-pool-\(suffix)"), name: "Pool", logger: Self.logger)
            let dedicated = try await clusters.admin.tenants.create(slug: TenantSlug("link-eu-\(suffix)"), name: "EU", region: "eu",
                                                                    cluster: PlacementClusters.eu, logger: Self.logger)
            let views = clusters.database.savedViews
            var tokens: [TenantID: (token: String, view: UUID)] = [:]
            for tenant in [onPool, dedicated] {
                let scope = tenant.id.testScope
                let view = try await views.save(in: scope, name: "view of \(tenant.slug)", days: 7, course: nil, logger: Self.logger)
                let shared = try #require(try await views.share(in: scope, view: view.id, lifetime: .seconds(600), logger: Self.logger))
                tokens[tenant.id] = (shared.token, view.id)
            }
            #expect(try await clusters.count("app.shared_links", of: dedicated.id, on: PlacementClusters.eu) == 1)
            #expect(try await clusters.count("app.shared_links", of: dedicated.id, on: .pool) == 0)
            for tenant in [onPool, dedicated] {
                let opened = try #require(try await views.resolve(token: tokens[tenant.id]!.token, logger: Self.logger))
                #expect(opened.scope.tenant == tenant.id && opened.view.id == tokens[tenant.id]!.view && opened.view.name == "view of \(tenant.slug)")
            }
        }
    }

    @Test func residencyRefusesAClusterOfAnotherRegion() async throws {
        try await PlacementClusters.with { clusters in
            let suffix = String(UUID().uuidString.prefix(6)).lowercased()
            await #expect(throws: TenantScopeError.self) {
                try await clusters.admin.tenants.create(slug: TenantSlug("us-on-eu-\(suffix)"), name: "Wrong region", region: "us",
                                                        cluster: PlacementClusters.eu, logger: Self.logger)
            }
            #expect(try await clusters.database.tenants.find(slug: TenantSlug("us-on-eu-\(suffix)"), logger: Self.logger) == nil)
            let european = try await clusters.admin.tenants.create(slug: TenantSlug("eu-\(suffix)"), name: "European", region: "eu",
                                                                   cluster: PlacementClusters.eu, logger: Self.logger)
            #expect(european.cluster == PlacementClusters.eu)
            // A cluster cannot be moved into a region its tenants are not in.
            await #expect(throws: TenantScopeError.self) {
                try await clusters.admin.clusters.setRegion(of: PlacementClusters.eu, to: "us", logger: Self.logger)
            }
            let listed = try await clusters.admin.clusters.list(logger: Self.logger)
            #expect(listed.map(\.name) == [.pool, PlacementClusters.any, PlacementClusters.eu])
            #expect(listed.first { $0.name == PlacementClusters.eu }?.region == "eu")
            #expect(listed.first { $0.name == PlacementClusters.eu }?.tenants == 1)
        }
    }

    @Test func platformReportsOverThreeClustersAnswerWhatOneClusterDoes() async throws {
        let handle = try TestDatabase.current
        let suffix = String(UUID().uuidString.prefix(6)).lowercased()
        // One date for both loads: the three clusters take a while to start.
        let now = Date()
        _ = try await Self.makeTenants(in: handle.admin, suffix: suffix, now: now) { _ in .pool }
        let single = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database)
        try await PlacementClusters.with { clusters in
            _ = try await Self.makeTenants(in: clusters.admin, suffix: suffix, now: now) { [.pool, PlacementClusters.eu, PlacementClusters.any][$0] }
            let spread = ReportRunner(catalog: try StandardReports.catalog(), database: clusters.database)
            let scope = try Self.platformScope()
            for report in ["active_learners", "feature_adoption", "tenant_overview"] {
                for days in ["7", "30"] {
                    let one = try await single.run(report, in: scope, parameters: [("days", days)], logger: Self.logger)
                    let three = try await spread.run(report, in: scope, parameters: [("days", days)], logger: Self.logger)
                    #expect(one.clusters == nil)
                    #expect(three.clusters == ClusterCoverage(answered: [.pool, PlacementClusters.any, PlacementClusters.eu], missing: []))
                    #expect(!three.rows.isEmpty, "\(report) has rows")
                    #expect(three.rows == one.rows, "\(report) over \(days) days: three clusters answer what one does")
                }
            }
        }
    }

    /// A tenant's roll-ups on two clusters count once, on the cluster the control database places it: a move commits
    /// its copy on the target before it switches the placement and removes the source's rows (and a move that failed
    /// after its copy committed leaves them there), and the platform reports counted the tenant twice meanwhile.
    @Test func aTenantsRowsOnTwoClustersCountOnlyWhereItIsPlaced() async throws {
        try await PlacementClusters.with { clusters in
            let suffix = String(UUID().uuidString.prefix(6)).lowercased()
            let tenants = try await Self.makeTenants(in: clusters.admin, suffix: suffix) { [.pool, PlacementClusters.eu, PlacementClusters.any][$0] }
            let runner = ReportRunner(catalog: try StandardReports.catalog(), database: clusters.database)
            let scope = try Self.platformScope()
            let reports = ["active_learners", "feature_adoption", "tenant_overview"]
            var before: [String: [[ReportCell]]] = [:]
            for report in reports { before[report] = try await runner.run(report, in: scope, parameters: [("days", "30")], logger: Self.logger).rows }
            // The pool tenant's roll-ups, copied to any-1 as a move's copy leaves them (its directory row with them).
            let moving = tenants[0]
            try await OneShotConnection.with(clusters.superusers[.pool]!, logger: Self.logger) { pool in
                try await OneShotConnection.with(clusters.superusers[PlacementClusters.any]!, logger: Self.logger) { target in
                    try await TenantRegistry.insertCopy(of: moving, on: target, logger: Self.logger)
                    // `last_day` is generated from `active`.
                    for (table, columns) in [("app.daily_active_learners", "tenant_id, day, learners, statements"),
                                             ("app.daily_feature_usage", "tenant_id, day, feature_key, events, actors"),
                                             ("app.learner_active_days", "tenant_id, learner_hash, active")] {
                        let rows = try await pool.query(PostgresQuery(unsafeSQL: """
                            SELECT coalesce(json_agg(t), '[]')::text FROM \(table) t WHERE tenant_id = '\(moving.id)'
                            """), logger: Self.logger).collect().first!.decode(String.self)
                        try #require(rows != "[]", "\(table) holds the tenant's rows")
                        _ = try await target.query(PostgresQuery(unsafeSQL: """
                            INSERT INTO \(table) (\(columns)) SELECT \(columns) FROM json_populate_recordset(NULL::\(table), $1::json)
                            """, binds: { var binds = PostgresBindings(); binds.append(rows); return binds }()), logger: Self.logger).collect()
                    }
                }
            }
            for report in reports {
                let after = try await runner.run(report, in: scope, parameters: [("days", "30")], logger: Self.logger).rows
                #expect(after == before[report], "\(report): the tenant's rows on a cluster it is not placed on were counted")
            }
        }
    }

    /// A cluster added while the server runs is opened without a restart (architecture decision 60): a tenant placed
    /// on it is served from it at once, its rows land there, and work over every tenant (the roll-up pass, platform
    /// reports) covers it; one added and not used yet is opened by the running service's next look.
    @Test func aClusterAddedOrRemovedWhileRunningIsOpenedOrClosedWithoutARestart() async throws {
        try await PlacementClusters.with { clusters in
            let root = try TestPostgres.makeTemporaryDirectory("placement-late")
            var started: [EmbeddedPostgres] = []
            do {
                var owners: [DatabaseEndpoint] = []
                for name in ["late-1", "late-2"] {
                    let cluster = EmbeddedPostgres(configuration: .init(stateDirectory: root + "/" + name, relaxedDurability: true), logger: Self.logger)
                    owners.append(try await cluster.start())
                    started.append(cluster)
                    Watchdog.stopWhenThisProcessExits(dataDirectory: cluster.dataDirectory)
                }
                let (used, unused) = (try ClusterName("late-1"), try ClusterName("late-2"))
                let runtime = clusters.database
                #expect(runtime.clusters.map(\.cluster) == [.pool, PlacementClusters.any, PlacementClusters.eu])

                // Added while the runtime runs, and used at once: the tenant's first transaction opens the cluster.
                _ = try await clusters.admin.clusters.add(used, ownerEndpoint: owners[0], region: nil, logger: Self.logger)
                let suffix = String(UUID().uuidString.prefix(6)).lowercased()
                let tenant = try await clusters.admin.tenants.create(slug: TenantSlug("late-\(suffix)"), name: "Late", cluster: used,
                                                                     logger: Self.logger)
                try await Self.load(tenant.id, seed: 300, now: Date(), into: runtime)
                #expect(runtime.clusters.map(\.cluster).contains(used))
                let seen = try await runtime.sessions.run(tenant.id.testScope, logger: Self.logger) { connection in
                    try await connection.query("SELECT count(*)::int FROM app.statements").collect().first!.decode(Int.self)
                }
                #expect(seen == 40)
                var superuser = try await started[0].superuserEndpoint()
                superuser.database = owners[0].database
                let onIt = try await OneShotConnection.with(superuser, logger: Self.logger) { connection in
                    try await connection.query("SELECT count(*)::int FROM app.statements WHERE tenant_id = \(tenant.id.rawValue)", logger: Self.logger)
                        .collect().first!.decode(Int.self)
                }
                #expect(onIt == 40)
                #expect(try await clusters.count("app.statements", of: tenant.id, on: .pool) == 0)

                // Work over every tenant covers it: a roll-up pass over its queue, a platform report's fan-out.
                try await RollupService(database: runtime, logger: Self.logger).pass(among: [tenant.id])
                // Its tenant reports are answered there, each by a call of the report's function on that cluster (decision 61).
                let active = try await ReportRunner(catalog: try StandardReports.catalog(), database: runtime)
                    .run("active_learners", in: .tenant(tenant.id.testScope), parameters: [("days", "365")], logger: Self.logger)
                #expect(!active.rows.isEmpty)
                let functionsThere = try await OneShotConnection.with(superuser, logger: Self.logger) { connection in
                    try await connection.query("SELECT count(*)::int FROM pg_proc WHERE proname LIKE 'tenantscope\\_read\\_%'", logger: Self.logger)
                        .collect().first!.decode(Int.self)
                }
                #expect(functionsThere >= 1)
                let overview = try await ReportRunner(catalog: try StandardReports.catalog(), database: runtime)
                    .run("tenant_overview", in: try Self.platformScope(), parameters: [], logger: Self.logger)
                #expect(overview.clusters?.answered.contains(used) == true)
                #expect(overview.clusters?.missing.isEmpty == true)

                // Added and not used: the running service's look opens it within its interval.
                _ = try await clusters.admin.clusters.add(unused, ownerEndpoint: owners[1], region: nil, logger: Self.logger)
                let deadline = ContinuousClock.now + DedicatedClusters.lookInterval * 3
                while !runtime.clusters.map(\.cluster).contains(unused), ContinuousClock.now < deadline {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(runtime.clusters.map(\.cluster) == [.pool, PlacementClusters.any, PlacementClusters.eu, used, unused])

                // Removed: refused while a tenant is placed on it; once removed, the look closes it and its connections.
                await #expect(throws: TenantScopeError.self) { try await clusters.admin.clusters.remove(used, logger: Self.logger) }
                await #expect(throws: TenantScopeError.self) { try await clusters.admin.clusters.remove(.pool, logger: Self.logger) }
                await #expect(throws: TenantScopeError.self) {
                    try await clusters.admin.clusters.remove(try ClusterName("never-added"), logger: Self.logger)
                }
                var unusedSuperuser = try await started[1].superuserEndpoint()
                unusedSuperuser.database = owners[1].database
                let serverConnections = {
                    try await OneShotConnection.with(unusedSuperuser, logger: Self.logger) { connection in
                        try await connection.query("""
                            SELECT count(*)::int FROM pg_stat_activity
                            WHERE usename IN (\(Database.appRole), \(Database.tenantLoginRole)) AND datname = current_database()
                            """, logger: Self.logger).collect().first!.decode(Int.self)
                    }
                }
                // A platform report reads every cluster, so the unused one's pool holds a connection now.
                _ = try await ReportRunner(catalog: try StandardReports.catalog(), database: runtime)
                    .run("tenant_overview", in: try Self.platformScope(), parameters: [], logger: Self.logger)
                #expect(try await serverConnections() > 0)
                let removed = try await clusters.admin.clusters.remove(unused, logger: Self.logger)
                #expect(removed.name == unused)
                #expect(try await clusters.admin.clusters.list(logger: Self.logger).map(\.name).contains(used))
                let closing = ContinuousClock.now + DedicatedClusters.lookInterval * 3
                while runtime.clusters.map(\.cluster).contains(unused), ContinuousClock.now < closing {
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(runtime.clusters.map(\.cluster) == [.pool, PlacementClusters.any, PlacementClusters.eu, used])
                var left = try await serverConnections()
                while left > 0, ContinuousClock.now < closing + .seconds(15) {
                    try await Task.sleep(for: .milliseconds(200))
                    left = try await serverConnections()
                }
                #expect(left == 0, "the removed cluster's pools closed their connections")
                let after = try await ReportRunner(catalog: try StandardReports.catalog(), database: runtime)
                    .run("tenant_overview", in: try Self.platformScope(), parameters: [], logger: Self.logger)
                #expect(after.clusters?.answered.contains(unused) == false)
                #expect(after.clusters?.missing.isEmpty == true)
            } catch {
                for cluster in started { try? await cluster.stop() }
                throw error
            }
            for cluster in started { try? await cluster.stop() }
        }
    }

    /// A named cluster that cannot be opened is refused as unavailable, and at once while its last attempt is recent:
    /// its tenants' requests do not each wait out another connection attempt behind the others.
    @Test func aClusterThatCannotBeOpenedIsRefusedAtOnceUntilTheNextLook() async throws {
        try await PlacementClusters.with { clusters in
            let attempts = Mutex(0)
            // The control database's real list (eu-1, any-1), each opened through the start-up path at a port where
            // nothing listens: the connection is refused, as for a cluster whose host is down.
            let unreachable = DedicatedClusters(initial: [:], control: clusters.database.pool, logger: Self.logger) { name, endpoint in
                attempts.withLock { $0 += 1 }
                let nowhere = DatabaseEndpoint(host: "127.0.0.1", port: 1, username: endpoint.username, password: endpoint.password,
                                               database: endpoint.database, tls: .disable)
                return try await Database.open(appEndpoint: nowhere, logger: Self.logger, cluster: name)
            }
            await #expect(throws: DatabaseUnavailable.self) { try await unreachable.database(PlacementClusters.eu, logger: Self.logger) }
            #expect(attempts.withLock { $0 } == 2, "one attempt for each cluster the control database names")
            await #expect(throws: DatabaseUnavailable.self) { try await unreachable.database(PlacementClusters.eu, logger: Self.logger) }
            #expect(attempts.withLock { $0 } == 2, "refused at once: no new attempt within the look interval")
            #expect(unreachable.isEmpty)
        }
    }

    /// A cluster the control database names but the server could not open (added while it runs, its host down) is
    /// listed as missing from a platform answer, never silently left out: the fan-out asked the open clusters only,
    /// so its tenants read as zero and the answer said it was whole.
    @Test func aClusterThatCouldNotBeOpenedIsNamedInTheAnswer() async throws {
        try await PlacementClusters.with { clusters in
            let down = try ClusterName("down-1")
            _ = try await OneShotConnection.with(clusters.superusers[.pool]!, logger: Self.logger) { connection in
                try await connection.query("""
                    INSERT INTO app_private.clusters (name, region, host, port, database, tls, app_password, owner_user)
                    VALUES (\(down.rawValue), NULL, '127.0.0.1', 1, 'tenantscope', 'disable', 'unused', 'unused')
                    """, logger: Self.logger).collect()
            }
            let dedicated = try #require(clusters.database.dedicated)
            let failures = try await dedicated.follow(logger: Self.logger)
            #expect(failures.keys.contains(down))
            #expect(dedicated.unopened == [down])
            let runner = ReportRunner(catalog: try StandardReports.catalog(), database: clusters.database)
            let answer = try await runner.run("tenant_overview", in: try Self.platformScope(), parameters: [], logger: Self.logger)
            #expect(answer.clusters?.answered == [.pool, PlacementClusters.any, PlacementClusters.eu])
            #expect(answer.clusters?.missing.map(\.cluster) == [down], "a cluster that could not be opened was left out unnamed")
            let audited = try await clusters.admin.auditTrail.tail(limit: 1, logger: Self.logger).map(\.entry)
            #expect(audited.first?.outcome == "partial" && audited.first?.parameters["missing_clusters"] == "down-1")
        }
    }

    @Test func aClusterThatDoesNotAnswerIsNamedInTheAnswerNotLeftOut() async throws {
        try await PlacementClusters.with { clusters in
            let suffix = String(UUID().uuidString.prefix(6)).lowercased()
            _ = try await Self.makeTenants(in: clusters.admin, suffix: suffix) { [.pool, PlacementClusters.eu, PlacementClusters.any][$0] }
            let runner = ReportRunner(catalog: try StandardReports.catalog(), database: clusters.database, clusterTimeout: .seconds(2))
            let scope = try Self.platformScope()
            let whole = try await runner.run("tenant_overview", in: scope, parameters: [], logger: Self.logger)
            let frozen = clusters.dataDirectories[PlacementClusters.eu]!
            ClusterProcesses.signalAll(dataDirectory: frozen, SIGSTOP)
            defer { ClusterProcesses.signalAll(dataDirectory: frozen, SIGCONT) }
            let partial = try await runner.run("tenant_overview", in: scope, parameters: [], logger: Self.logger)
            ClusterProcesses.signalAll(dataDirectory: frozen, SIGCONT)
            #expect(partial.clusters?.answered == [.pool, PlacementClusters.any])
            #expect(partial.clusters?.missing.map(\.cluster) == [PlacementClusters.eu])
            // The tenant on the frozen cluster is still listed (the directory is the pool's), without its activity.
            #expect(partial.rows.count == whole.rows.count)
            #expect(partial.rows != whole.rows)
            let audited = try await clusters.admin.auditTrail.tail(limit: 5, logger: Self.logger).map(\.entry)
            #expect(audited.contains { $0.action == "cross_tenant_query" && $0.outcome == "partial" && $0.parameters["missing_clusters"] == "eu-1" })
        }
    }
}
