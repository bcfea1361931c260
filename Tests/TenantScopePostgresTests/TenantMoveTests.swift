import Foundation
import PostgresNIO
import Synchronization
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// `tenant move` over three real clusters (architecture decision 49): every tenant table's rows arrive
/// verified and leave the source, the tenant is served from its new cluster (a server that still routes by
/// the old placement is refused, not answered from the wrong place), its writes are held during the copy
/// without losing one, no other tenant pauses, and residency refuses a cluster of another region.
@Suite(.serialized) struct TenantMoveTests {
    static let logger = TestDatabase.logger

    /// Every tenant table's count of the tenant's rows on one cluster.
    static func counts(_ tenant: TenantID, on cluster: ClusterName, in clusters: PlacementClusters) async throws -> [String: Int] {
        var counts: [String: Int] = [:]
        for table in TenantMover.tables + TenantMover.derivedTables { counts[table] = try await clusters.count(table, of: tenant, on: cluster) }
        return counts
    }

    /// A tenant transaction that retries the gate's refusal a few times, as a client retries a 503.
    static func retryingRelocation<Result: Sendable>(_ work: () async throws -> Result) async throws -> Result {
        for _ in 0..<20 {
            do { return try await work() } catch is TenantRelocating { try await Task.sleep(for: .milliseconds(100)) }
        }
        return try await work()
    }

    @Test func aMoveCopiesEveryTableVerifiedThenRemovesTheSourceAndBack() async throws {
        try await PlacementClusters.with { clusters in
            let two = try await TwoTenants.make(clusters.handle)
            let moving = two.a.tenant
            let tables = try await TwoTenants.tenantTables(clusters.handle)
            #expect(Set(tables).subtracting(["app.tenants"]) == Set(TenantMover.tables + TenantMover.derivedTables),
                    "the move knows every tenant table")
            let before = try await Self.counts(moving.id, on: .pool, in: clusters)
            #expect(before.values.allSatisfy { $0 > 0 }, "the fixture has a row in every table: \(before)")
            let stayingBefore = try await Self.counts(two.b.tenant.id, on: .pool, in: clusters)
            let report = try await clusters.admin.mover.move(slug: moving.slug, to: PlacementClusters.any, operatorName: "test")
            #expect(report.from == .pool && report.to == PlacementClusters.any)
            // Tables a trigger keeps are not copied but written on the target by the copy of their source.
            #expect(Dictionary(uniqueKeysWithValues: report.tables.map { ($0.table, $0.rows) })
                    == before.filter { !TenantMover.derivedTables.contains($0.key) })
            #expect(try await Self.counts(moving.id, on: PlacementClusters.any, in: clusters) == before)
            #expect(try await Self.counts(moving.id, on: .pool, in: clusters).values.allSatisfy { $0 == 0 }, "the source rows are gone")
            #expect(try await Self.counts(two.b.tenant.id, on: .pool, in: clusters) == stayingBefore, "the other tenant is untouched")
            #expect(try await clusters.database.tenants.find(slug: moving.slug, logger: Self.logger)?.cluster == PlacementClusters.any)

            // This process still routed the tenant to the pool: the gate refuses that once (nothing is read
            // from the wrong place), the placement is looked up again, and the canary is read on the new cluster.
            let readCanary: @Sendable () async throws -> Int = {
                try await clusters.database.sessions.run(moving.id.testScope, logger: Self.logger) { connection in
                    try await connection.query("SELECT count(*)::int FROM app.statements WHERE statement::text LIKE \("%\(two.a.canary)%")")
                        .collect().first!.decode(Int.self)
                }
            }
            clusters.database.placement.record(moving.id, on: .pool)
            await #expect(throws: TenantRelocating.self) { try await readCanary() }
            #expect(try await readCanary() == 1)
            // A tenant report's one call (architecture decision 61) meets the same gate, and is then answered there.
            let readLearners: @Sendable () async throws -> [String] = {
                try await clusters.database.sessions.readRows(moving.id.testScope, ScopedReadFunctionTests.statement(), columns: [.text],
                                                              logger: Self.logger).rows.map { try $0.decode(String.self) }
            }
            clusters.database.placement.record(moving.id, on: .pool)
            await #expect(throws: TenantRelocating.self) { try await readLearners() }
            let learners = try await readLearners()
            #expect(learners.count == 1 && learners.allSatisfy { $0.contains(two.a.canary) })

            // Keyed learner hashes survive the move (the secret moves too): a catch-up on the new cluster agrees with the copied roll-ups.
            let hashes: @Sendable () async throws -> [String] = {
                try await clusters.database.sessions.run(moving.id.testScope, logger: Self.logger) { connection in
                    try await connection.query("SELECT learner_key FROM app.learners ORDER BY 1").collect().map { try $0.decode(String.self) }
                }
            }
            let movedKeys = try await hashes()

            // And back to the pool: the same rows again, and the dedicated cluster keeps none.
            _ = try await clusters.admin.mover.move(slug: moving.slug, to: .pool, operatorName: "test")
            #expect(try await Self.counts(moving.id, on: .pool, in: clusters) == before)
            #expect(try await Self.counts(moving.id, on: PlacementClusters.any, in: clusters).values.allSatisfy { $0 == 0 })
            #expect(try await Self.retryingRelocation { try await hashes() } == movedKeys)
            let audited = try await clusters.admin.auditTrail.tail(limit: 10, logger: Self.logger).map(\.entry)
            #expect(audited.filter { $0.action == "tenant_moved" && $0.scopeTenant == moving.id }.count == 2)
        }
    }

    @Test func residencyRefusesAMoveToAClusterOfAnotherRegion() async throws {
        try await PlacementClusters.with { clusters in
            let tenant = try await clusters.admin.tenants.create(slug: TenantSlug("us-\(UUID().uuidString.prefix(6).lowercased())"),
                                                                 name: "American", region: "us", logger: Self.logger)
            await #expect(throws: TenantScopeError.self) {
                try await clusters.admin.mover.move(slug: tenant.slug, to: PlacementClusters.eu, operatorName: "test")
            }
            #expect(try await clusters.database.tenants.find(slug: tenant.slug, logger: Self.logger)?.cluster == .pool)
        }
    }

    @Test func aHeldTenantsWritesAreRefusedWhileItsReadsAndOtherTenantsGoOn() async throws {
        try await PlacementClusters.with { clusters in
            let two = try await TwoTenants.make(clusters.handle)
            let held = two.a.tenant.id
            let write: @Sendable (TenantID) async throws -> Void = { tenant in
                _ = try await clusters.database.featureEvents.store(
                    [FeatureEvent(id: UUID(), featureKey: "held", actor: "a", occurredAt: Date())], in: tenant.testScope, logger: Self.logger)
            }
            // The move's hold, taken by hand on the source as the move takes it.
            try await OneShotConnection.with(clusters.superusers[.pool]!, logger: Self.logger) { connection in
                _ = try await connection.query("SELECT pg_advisory_lock(hashtextextended(\("tenantscope.move.\(held)"), 0))",
                                               logger: Self.logger).collect()
                await #expect(throws: TenantRelocating(reason: .moving)) { try await write(held) }
                // A move off a dedicated cluster deletes the tenant's row there in a long transaction while it holds the
                // tenant: the gate tries the hold before it locks the row, so a write is refused at once, never queued
                // behind that transaction (decision 94). The row is locked here as that deletion locks it; a watcher
                // lets it go if the write waits for it, and the write must not have.
                try await OneShotConnection.with(clusters.superusers[.pool]!, logger: Self.logger) { rowHolder in
                    try await rowHolder.execute("BEGIN", logger: Self.logger)
                    try await rowHolder.execute("SELECT 1 FROM app.tenants WHERE id = \(held.rawValue) FOR UPDATE", logger: Self.logger)
                    let watcher = Task {
                        try await OneShotConnection.with(clusters.superusers[.pool]!, logger: Self.logger) { watching in
                            let waited = try await LockWaiters.await(1, on: watching)
                            if waited { try await rowHolder.execute("ROLLBACK", logger: Self.logger) }
                            return waited
                        }
                    }
                    await #expect(throws: TenantRelocating(reason: .moving)) { try await write(held) }
                    watcher.cancel()
                    let waited = (try? await watcher.value) ?? false
                    #expect(!waited, "the write waited for the tenant's row lock before it looked at the move's hold")
                    if !waited { try await rowHolder.execute("ROLLBACK", logger: Self.logger) }
                }
                try await write(two.b.tenant.id)  // another tenant is not paused
                let reads = try await clusters.database.sessions.run(held.testScope, logger: Self.logger) { connection in
                    try await connection.query("SELECT count(*)::int FROM app.feature_events").collect().first!.decode(Int.self)
                }
                #expect(reads == 1, "the held tenant still reads (its fixture event)")
                _ = try await connection.query("SELECT pg_advisory_unlock(hashtextextended(\("tenantscope.move.\(held)"), 0))",
                                               logger: Self.logger).collect()
            }
            try await write(held)
        }
    }

    @Test func noWriteAcknowledgedDuringAMoveIsLost() async throws {
        try await PlacementClusters.with { clusters in
            let tenant = try await clusters.admin.tenants.create(slug: TenantSlug("busy-\(UUID().uuidString.prefix(6).lowercased())"),
                                                                 name: "Busy", region: "eu", logger: Self.logger)
            let acknowledged = Mutex<[UUID]>([])
            let refused = Atomic<Int>(0)
            let stop = Atomic<Bool>(false)
            let writer = Task {
                while !stop.load(ordering: .relaxed) {
                    let id = UUID()
                    do {
                        _ = try await clusters.database.featureEvents.store([FeatureEvent(id: id, featureKey: "busy", actor: "w", occurredAt: Date())],
                                                                            in: tenant.id.testScope, logger: Self.logger)
                        acknowledged.withLock { $0.append(id) }
                    } catch is TenantRelocating {
                        refused.add(1, ordering: .relaxed)
                    }
                }
            }
            try await Task.sleep(for: .milliseconds(300))
            _ = try await clusters.admin.mover.move(slug: tenant.slug, to: PlacementClusters.eu, operatorName: "test")
            try await Task.sleep(for: .milliseconds(300))
            stop.store(true, ordering: .relaxed)
            try await writer.value
            let written = acknowledged.withLock { $0 }
            #expect(written.count > 0)
            #expect(try await clusters.count("app.feature_events", of: tenant.id, on: PlacementClusters.eu) == written.count,
                    "every acknowledged write is on the new cluster (\(refused.load(ordering: .relaxed)) were refused and not acknowledged)")
            #expect(try await clusters.count("app.feature_events", of: tenant.id, on: .pool) == 0)
        }
    }
}
