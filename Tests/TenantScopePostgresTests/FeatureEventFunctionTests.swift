import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// A product-event batch as one call of its session function (architecture decision 62): one exchange once the function
/// exists, and the same events and daily usage as the same batch stored in a scoped transaction.
@Suite(.serialized, .freshDatabase) struct FeatureEventFunctionTests {
    static func events(_ count: Int) -> [FeatureEvent] {
        let start = Date(timeIntervalSince1970: 1_793_000_000)
        return (0..<count).map { FeatureEvent(id: UUID(), featureKey: "reports.\($0 % 3)", actor: "user-\($0 % 4)",
                                              occurredAt: start.addingTimeInterval(Double($0) * 20_000)) }
    }

    static func usage(_ handle: TestDatabase, _ tenant: Tenant) async throws -> [String] {
        try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                SELECT day::text || ' ' || feature_key || ' ' || events || ' ' || actors FROM app.daily_feature_usage
                WHERE feature_key LIKE 'reports.%' ORDER BY 1
                """).collect().map { try $0.decode(String.self) }
        }
    }

    @Test func aBatchIsOneExchangeAndStoresWhatATransactionStores() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = handle.database
        let events = Self.events(12)
        let recorder = LogRecorder()
        let values: [BoundStatement.Value] = [
            .uuidArray(events.map(\.id)), .textArray(events.map(\.featureKey)), .textArray(events.map(\.actor)),
            .textArray(events.map { ISO8601Timestamp.formatMicroseconds($0.occurredAt) }),
        ]
        try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
            func call(_ values: [BoundStatement.Value]) async throws -> Int {
                try await database.sessions.write(fixture.a.tenant.id.testScope, calling: FeatureEventStore.function, values: values,
                                                  decode: { try $0.first?.decode(Int.self) ?? -1 },
                                                  orInTransaction: { _ in -1 }, on: connection, logger: TestDatabase.logger)
            }
            #expect(try await call(values) == 12)
            // The same batch again stores nothing.
            #expect(try await call(values) == 0)
            // A pass of the roll-up service gives the tenant its roll-up state, whose watermark a batch moves.
            try await RollupService(database: database, logger: TestDatabase.logger).catchUpAll(tenants: [fixture.a.tenant])
            // The same events under new ids: stored, the days refreshed, the watermark moved, in one exchange.
            let watermark = { try await database.sessions.run(fixture.a.tenant.id.testScope, logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT refreshed_at FROM app.rollup_state").collect().first?.decode(Date.self)
            } }
            let before = try await watermark()
            var renewed = values
            renewed[0] = .uuidArray(events.map { _ in UUID() })
            var stored = -1
            let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) { stored = try await call(renewed) }
            #expect(stored == 12 && exchanges == 1)
            let after = try await watermark()
            #expect(after != nil && after != before)
        }
        // Tenant B gets the same events twice (new ids each time) through scoped transactions: the same daily usage.
        let off = ScopedDatabase(tenantPool: database.tenantPool, platformPool: database.pool, signer: database.sessions.signer,
                                 statementTimeout: .seconds(30), replicas: nil, router: nil, sessionFunctions: false)
        let inTransaction = try await FeatureEventStore(sessions: off).store(
            events.map { FeatureEvent(id: UUID(), featureKey: $0.featureKey, actor: $0.actor, occurredAt: $0.occurredAt) },
            in: fixture.b.tenant.id.testScope, logger: TestDatabase.logger)
        #expect(inTransaction == 12)
        _ = try await FeatureEventStore(sessions: off).store(
            events.map { FeatureEvent(id: UUID(), featureKey: $0.featureKey, actor: $0.actor, occurredAt: $0.occurredAt) },
            in: fixture.b.tenant.id.testScope, logger: TestDatabase.logger)
        let a = try await Self.usage(handle, fixture.a.tenant)
        let b = try await Self.usage(handle, fixture.b.tenant)
        #expect(!a.isEmpty)
        #expect(a == b, "call: \(a)\ntransaction: \(b)")
    }

    /// A batch that waits for its tenant's derivation lock (held by a catch-up, an erasure or a rebuild) holds no lock on
    /// any table meanwhile, as one call and as a scoped transaction: a statement that needs a strong lock on
    /// `app.feature_events` would otherwise queue behind it, and every other tenant's batch behind that statement.
    /// Fails when the batch inserts before it takes the lock.
    @Test func aBatchWaitingForItsTenantsDerivationLockHoldsNoTableLock() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = handle.database
        let off = ScopedDatabase(tenantPool: database.tenantPool, platformPool: database.pool, signer: database.sessions.signer,
                                 statementTimeout: .seconds(30), replicas: nil, router: nil, sessionFunctions: false)
        let tenant = fixture.a.tenant.id
        for (path, store) in [("one call", database.featureEvents), ("a scoped transaction", FeatureEventStore(sessions: off))] {
            try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
                let locks = DerivationLockProbe(connection: connection)
                try await locks.hold(tenant)
                let batch = Task { try await store.store(Self.events(3), in: tenant.testScope, logger: TestDatabase.logger) }
                let pid = try #require(try await locks.awaitWaiter(tenant), "\(path): the batch did not wait for its tenant's lock within 60 s")
                let held = try await locks.appTableLocks(of: pid)
                try await locks.release(tenant)
                #expect(held.isEmpty, "\(path): the waiting batch holds locks on \(held)")
                #expect(try await batch.value == 3, "\(path): once the lock is free the batch is stored")
            }
        }
    }

    /// A batch waits for its tenant's derivation lock at most `FeatureEventStore.lockWait`, then is refused as a conflict
    /// with a concurrent transaction (55P03, answered 503 with `Retry-After`) and stores nothing, on both paths. It used to
    /// wait out the statement timeout, holding a connection of the pool every tenant shares.
    @Test func aBatchWaitsForItsTenantsDerivationLockOnlySoLong() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = handle.database
        let off = ScopedDatabase(tenantPool: database.tenantPool, platformPool: database.pool, signer: database.sessions.signer,
                                 statementTimeout: .seconds(120), replicas: nil, router: nil, sessionFunctions: false)
        let tenant = fixture.a.tenant.id
        for (path, store) in [("one call", database.featureEvents), ("a scoped transaction", FeatureEventStore(sessions: off))] {
            let events = Self.events(3)
            try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
                let locks = DerivationLockProbe(connection: connection)
                try await locks.hold(tenant)
                await #expect(performing: { _ = try await store.store(events, in: tenant.testScope, logger: TestDatabase.logger) },
                              throws: { TransactionConflict.sqlState(of: $0) == "55P03" })
                try await locks.release(tenant)
            }
            #expect(try await store.store(events, in: tenant.testScope, logger: TestDatabase.logger) == 3, "\(path): the refused batch stored nothing")
        }
    }

}
