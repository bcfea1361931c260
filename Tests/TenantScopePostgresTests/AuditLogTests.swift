import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The audit log is append-only and its hash chain exposes tampering. Own cluster: tampering tests edit rows.
@Suite(.serialized, .freshDatabase) struct AuditLogTests {

    func appendThree(_ handle: TestDatabase) async throws -> [Int] {
        var seqs: [Int] = []
        for n in 1...3 {
            seqs.append(try await handle.database.audit.append(.init(
                actor: "op-\(n)", actorKind: "platform_admin", scopeTenant: nil, action: "cross_tenant_query",
                report: "feature_adoption", parameters: ["days": "\(n)"], rowCount: n, outcome: "ok"
            ), logger: TestDatabase.logger))
        }
        return seqs
    }

    func asOwner<T: Sendable>(_ handle: TestDatabase, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger, body)
    }

    @Test func anIntactChainVerifies() async throws {
        let handle = try TestDatabase.current
        let seqs = try await appendThree(handle)
        #expect(seqs == seqs.sorted() && Set(seqs).count == 3)
        #expect(try await handle.admin.auditTrail.firstBrokenRow(logger: TestDatabase.logger) == nil)
        let tail = try await handle.admin.auditTrail.tail(limit: 3, logger: TestDatabase.logger)
        #expect(tail.map(\.entry.actor) == ["op-1", "op-2", "op-3"])
    }

    /// Appends `count` entries at once; entry `refused` (if any) breaks the database's rule for actions.
    func appendConcurrently(_ audit: AuditLog, count: Int, refused: Int? = nil) async -> [Int: Result<Int, any Error>] {
        await withTaskGroup(of: (Int, Result<Int, any Error>).self) { group in
            for n in 0..<count {
                group.addTask {
                    let action = n == refused ? "Not An Action" : "cross_tenant_query"
                    do {
                        return (n, .success(try await audit.append(.init(
                            actor: "op-\(n)", actorKind: "platform_admin", scopeTenant: nil, action: action,
                            report: "feature_adoption", parameters: ["n": "\(n)"], rowCount: n, outcome: "ok"
                        ), logger: TestDatabase.logger)))
                    } catch {
                        return (n, .failure(error))
                    }
                }
            }
            return await group.reduce(into: [:]) { $0[$1.0] = $1.1 }
        }
    }

    /// Concurrent appends share batches (decision 34): every caller gets its own row, in an intact chain.
    ///
    /// The chain's table lock, held by the owner while the appends arrive, keeps the first batch in the database
    /// until every append is waiting, so the sharing does not depend on how the machine schedules the callers
    /// (under heavy load they could otherwise arrive one batch apart).
    @Test func concurrentAppendsShareBatchesAndEachCallerGetsItsOwnRow() async throws {
        let handle = try TestDatabase.current
        let audit = handle.database.audit
        let batchesBefore = await audit.appender.batchesWritten
        let appends = try await asOwner(handle) { connection in
            _ = try await connection.query("BEGIN", logger: TestDatabase.logger).collect()
            _ = try await connection.query("LOCK TABLE app.audit_log IN SHARE ROW EXCLUSIVE MODE", logger: TestDatabase.logger).collect()
            let appends = Task { await appendConcurrently(audit, count: 60) }
            let deadline = ContinuousClock.now + .seconds(60)
            while await audit.appender.pending < 60, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            _ = try await connection.query("COMMIT", logger: TestDatabase.logger).collect()
            return appends
        }
        let seqs = await appends.value.compactMapValues { try? $0.get() }
        #expect(seqs.count == 60 && Set(seqs.values).count == 60, "every caller has a row of its own")
        // The batch that met the lock, then one with everything that waited behind it.
        #expect(await audit.appender.batchesWritten - batchesBefore <= 2, "concurrent appends share batches")
        #expect(try await handle.admin.auditTrail.firstBrokenRow(logger: TestDatabase.logger) == nil)
        let tail = try await handle.admin.auditTrail.tail(limit: 60, logger: TestDatabase.logger)
        #expect(tail.count == 60)
        for row in tail {
            #expect(seqs[Int(row.entry.actor.dropFirst(3)) ?? -1] == row.seq, "\(row.entry.actor) got the sequence number of its own row")
        }
    }

    /// One refused entry costs no other entry of its batch its row.
    @Test func aRefusedEntryFailsAloneInItsBatch() async throws {
        let handle = try TestDatabase.current
        let results = await appendConcurrently(handle.database.audit, count: 20, refused: 7)
        let seqs = results.compactMapValues { try? $0.get() }
        #expect(seqs.count == 19 && seqs[7] == nil)
        #expect(Set(seqs.values).count == 19)
        #expect(try await handle.admin.auditTrail.firstBrokenRow(logger: TestDatabase.logger) == nil)
    }

    /// Once the database is unavailable, the entries of a refused batch that are still to be appended one by one fail
    /// at once with it (a 503), instead of each waiting out its own acquire timeout while every audited request hangs.
    ///
    /// The server's pool has one connection, held by the test until every entry waits: a bad entry goes alone, then a
    /// batch of a bad entry and three good ones, which the database refuses. Appended one by one, the first good entry
    /// waits for the chain's lock (held by the owner) and its connection is terminated; the other two must fail with
    /// that, and be neither waiting nor appended once the lock is free.
    @Test func entriesLeftInARefusedBatchFailTogetherOnceTheDatabaseIsUnavailable() async throws {
        let handle = try TestDatabase.current
        let limits = Database.Limits(acquireTimeout: .seconds(60), statementTimeout: .seconds(120), appConnections: 1)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: limits)
        let appender = database.audit.appender
        func append(_ n: Int, bad: Bool) -> Task<Int, any Error> {
            Task {
                try await database.audit.append(.init(
                    actor: "fallback-\(n)", actorKind: "platform_admin", scopeTenant: nil, action: bad ? "Not An Action" : "cross_tenant_query",
                    report: "feature_adoption", parameters: ["n": "\(n)"], rowCount: n, outcome: "ok"
                ), logger: TestDatabase.logger)
            }
        }
        func until(_ condition: @escaping () async throws -> Bool) async throws {
            for _ in 0..<600 where try await !condition() { try await Task.sleep(for: .milliseconds(100)) }
            try #require(try await condition(), "not within 60 s")
        }
        let rowsBefore = try await handle.admin.auditTrail.tail(limit: 10_000, logger: TestDatabase.logger).count
        try await database.withRunningClients {
            try await asOwner(handle) { owner in
                _ = try await owner.query("BEGIN", logger: TestDatabase.logger).collect()
                _ = try await owner.query("LOCK TABLE app.audit_log IN SHARE ROW EXCLUSIVE MODE", logger: TestDatabase.logger).collect()
                let (held, release) = AsyncStream.makeStream(of: Void.self)
                let holder = Task {
                    try await database.pool.withConnection(logger: TestDatabase.logger) { _ in for await _ in held {} }
                }
                let batchesBefore = await appender.batchesWritten
                let alone = append(0, bad: true)
                try await until { await appender.batchesWritten == batchesBefore + 1 }
                var tasks: [Task<Int, any Error>] = []
                for n in 1...4 {
                    tasks.append(append(n, bad: n == 1))
                    try await until { await appender.pending == n + 1 }
                }
                release.finish()
                _ = try await holder.value
                await #expect(throws: (any Error).self) { try await alone.value }
                await #expect(throws: (any Error).self) { try await tasks[0].value }
                // The first good entry, alone, waits for the chain's lock; its connection goes.
                var waiter: Int32?
                try await until {
                    waiter = try await owner.query("""
                        SELECT pid FROM pg_locks WHERE relation = 'app.audit_log'::regclass AND NOT granted
                        """, logger: TestDatabase.logger).collect().first?.decode(Int32.self)
                    return waiter != nil
                }
                // Only a superuser may end another role's backend.
                let superuser = try await TestPostgres.shared.start().superuserEndpoint
                _ = try await OneShotConnection.with(superuser, logger: TestDatabase.logger) { connection in
                    try await connection.query("SELECT pg_terminate_backend(\(try #require(waiter)))", logger: TestDatabase.logger).collect()
                }
                await #expect(throws: DatabaseUnavailable.self) { try await tasks[1].value }
                _ = try await owner.query("COMMIT", logger: TestDatabase.logger).collect()
                for task in tasks[2...] {
                    await #expect(throws: DatabaseUnavailable.self, "an entry was appended after the database was gone") { try await task.value }
                }
                // The lone bad entry, the refused batch, and two entries one by one: the last two were never tried.
                #expect(await appender.batchesWritten == batchesBefore + 4, "entries were tried one by one after the database was gone")
            }
        }
        #expect(try await handle.admin.auditTrail.tail(limit: 10_000, logger: TestDatabase.logger).count == rowsBefore)
        #expect(try await handle.admin.auditTrail.firstBrokenRow(logger: TestDatabase.logger) == nil)
    }

    /// The longest subject a token may carry (``TokenVerifier/maximumSubjectBytes``) is an actor the chain takes.
    /// An append goes ahead while VACUUM holds the log (its SHARE UPDATE EXCLUSIVE lock, held here by hand): appends
    /// took a table lock that conflicts with it, so autovacuum of the log was cancelled under steady traffic and an
    /// anti-wraparound vacuum would have held every audited request (migration 53).
    @Test func anAppendDoesNotWaitForAVacuumOfTheLog() async throws {
        let handle = try TestDatabase.current
        try await asOwner(handle) { vacuum in
            _ = try await vacuum.query("BEGIN", logger: TestDatabase.logger).collect()
            _ = try await vacuum.query("LOCK TABLE app.audit_log IN SHARE UPDATE EXCLUSIVE MODE", logger: TestDatabase.logger).collect()
            let append = Task {
                try await handle.database.audit.append(.init(
                    actor: "op", actorKind: "platform_admin", scopeTenant: nil, action: "cross_tenant_query", report: "feature_adoption",
                    parameters: [:], rowCount: 1, outcome: "ok"), logger: TestDatabase.logger)
            }
            // Either the append finishes, or a backend is seen waiting for a lock on the log (a hang detector bounds the look).
            let waiter = try await asOwner(handle) { observer in
                for _ in 0..<600 {
                    let waiting = try await observer.query("""
                        SELECT count(*)::int FROM pg_locks WHERE NOT granted AND relation = 'app.audit_log'::regclass
                        """, logger: TestDatabase.logger).collect().first?.decode(Int.self) ?? 0
                    if waiting > 0 { return true }
                    if try await observer.query("SELECT count(*)::int FROM app.audit_log WHERE actor = 'op'", logger: TestDatabase.logger)
                        .collect().first?.decode(Int.self) ?? 0 > 0 { return false }
                    try await Task.sleep(for: .milliseconds(100))
                }
                return true
            }
            _ = try await vacuum.query("COMMIT", logger: TestDatabase.logger).collect()
            #expect(!waiter, "the append waited for the vacuum's lock")
            #expect(try await append.value > 0)
        }
        #expect(try await asOwner(handle) { try await $0.query("SELECT app.first_broken_audit_row()", logger: TestDatabase.logger).collect()
            .first?.decode(Int?.self) } == nil, "the chain stays whole")
    }

    @Test func theLongestSubjectATokenMayCarryGetsItsRow() async throws {
        let handle = try TestDatabase.current
        let actor = String(repeating: "名", count: 133)
        #expect(actor.utf8.count <= 400)
        let seq = try await handle.database.audit.append(.init(
            actor: actor, actorKind: "tenant_user", scopeTenant: nil, action: "report_run", report: "active_learners",
            parameters: [:], rowCount: 1, outcome: "ok"
        ), logger: TestDatabase.logger)
        #expect(try await handle.admin.auditTrail.tail(limit: 1, logger: TestDatabase.logger).first?.seq == seq)
        #expect(try await handle.admin.auditTrail.tail(limit: 1, logger: TestDatabase.logger).first?.entry.actor == actor)
    }

    @Test func updatesAndDeletesAreRefused() async throws {
        let handle = try TestDatabase.current
        _ = try await appendThree(handle)
        for statement in ["UPDATE app.audit_log SET outcome = 'x'", "DELETE FROM app.audit_log", "TRUNCATE app.audit_log"] {
            await #expect {
                try await asOwner(handle) { try await $0.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger) }
            } throws: { ($0.serverMessage ?? "").contains("append-only") }
        }
    }

    @Test(arguments: ["UPDATE app.audit_log SET row_count = 999 WHERE seq = $1", "DELETE FROM app.audit_log WHERE seq = $1",
                      "UPDATE app.audit_log SET actor = 'someone-else' WHERE seq = $1"])
    func tamperingIsDetectedAtTheFirstBrokenRow(_ tamper: String) async throws {
        let handle = try TestDatabase.current
        let seqs = try await appendThree(handle)
        #expect(try await handle.admin.auditTrail.firstBrokenRow(logger: TestDatabase.logger) == nil)
        // The owner can switch the guard trigger off; the chain still gives it away.
        try await asOwner(handle) { connection in
            try await connection.query("ALTER TABLE app.audit_log DISABLE TRIGGER audit_log_append_only", logger: TestDatabase.logger)
            var bindings = PostgresBindings()
            bindings.append(seqs[1])
            try await connection.query(PostgresQuery(unsafeSQL: tamper, binds: bindings), logger: TestDatabase.logger)
            try await connection.query("ALTER TABLE app.audit_log ENABLE TRIGGER audit_log_append_only", logger: TestDatabase.logger)
        }
        let broken = try await handle.admin.auditTrail.firstBrokenRow(logger: TestDatabase.logger)
        // An edited row breaks at itself; a deleted one breaks the link of the row after it.
        #expect(broken == (tamper.hasPrefix("DELETE") ? seqs[2] : seqs[1]))
        let verify = try await TenantScopeBinary.run(["audit", "verify", "--database-url", handle.ownerEndpoint.url])
        #expect(verify.status == 1)
        #expect(verify.output.contains("row \(broken ?? -1)"))
        // Repair for the next test: drop everything from the broken row on.
        try await asOwner(handle) { connection in
            try await connection.query("ALTER TABLE app.audit_log DISABLE TRIGGER audit_log_append_only", logger: TestDatabase.logger)
            try await connection.query("DELETE FROM app.audit_log", logger: TestDatabase.logger)
            try await connection.query("ALTER TABLE app.audit_log ENABLE TRIGGER audit_log_append_only", logger: TestDatabase.logger)
        }
    }

    @Test func tenantAndPlatformRolesCannotWriteOrReadTheAuditLog() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("audit")), name: "Audit", logger: TestDatabase.logger)
        for scope in [DataScope.tenant(tenant.id.testScope), .platform(ScopePolicy.platformCommand(operator: "op"))] {
            await #expect {
                try await handle.database.sessions.run(scope, access: .readWrite, logger: TestDatabase.logger) { connection in
                    try await connection.query("SELECT app.append_audit('forged', 'x', NULL, 'x', NULL, '{}', NULL, 'ok')").collect()
                }
            } throws: { $0.sqlState == "42501" }
            await #expect {
                try await handle.database.sessions.run(scope, logger: TestDatabase.logger) { connection in
                    try await connection.query("SELECT count(*) FROM app.audit_log").collect()
                }
            } throws: { $0.sqlState == "42501" }
        }
    }

    /// Someone who owns the table can rewrite the whole chain from an edited row on, so that the chain
    /// itself verifies; or cut its tail off. The checkpoints written outside the database show both.
    @Test func checkpointsRevealARewrittenChainAndATruncatedTail() async throws {
        let handle = try TestDatabase.current
        let checkpoints = try AuditCheckpoints.inStateDirectory(try TestPostgres.makeTemporaryDirectory("audit-checkpoints"))
        var seqs: [Int] = []
        for n in 1...4 {
            seqs.append(try await handle.database.audit.append(.init(actor: "op-\(n)", actorKind: "platform_admin", scopeTenant: nil,
                                                                      action: "cross_tenant_query", outcome: "ok"), logger: TestDatabase.logger))
            await checkpoints.noteAppend()
            try await checkpoints.flush(handle.database.audit, logger: TestDatabase.logger)
        }
        #expect(try checkpoints.read().map(\.head.seq) == seqs)
        #expect(try await handle.admin.auditTrail.verify(against: checkpoints.read(), logger: TestDatabase.logger).isIntact)

        // Rewrite row 2 and recompute every hash after it: the chain is consistent again.
        try await asOwner(handle) { connection in
            try await connection.query("ALTER TABLE app.audit_log DISABLE TRIGGER audit_log_append_only", logger: TestDatabase.logger)
            try await connection.query("UPDATE app.audit_log SET actor = 'someone-else' WHERE seq = \(seqs[1])", logger: TestDatabase.logger)
            // Sequence numbers are our own integers: spliced, because a DO block takes no bind parameters.
            try await connection.query(PostgresQuery(unsafeSQL: """
                DO $$
                DECLARE r app.audit_log; previous text;
                BEGIN
                  SELECT hash INTO previous FROM app.audit_log WHERE seq < \(seqs[1]) ORDER BY seq DESC LIMIT 1;
                  previous := coalesce(previous, repeat('0', 64));
                  FOR r IN SELECT * FROM app.audit_log WHERE seq >= \(seqs[1]) ORDER BY seq LOOP
                    UPDATE app.audit_log SET previous_hash = previous,
                      hash = app_private.audit_row_hash(previous, r.seq, r.occurred_at, r.actor, r.actor_kind, r.scope_tenant_id,
                                                        r.action, r.report, r.parameters, r.row_count, r.outcome)
                    WHERE seq = r.seq RETURNING hash INTO previous;
                  END LOOP;
                END $$
                """), logger: TestDatabase.logger)
        }
        let rewritten = try await handle.admin.auditTrail.verify(against: checkpoints.read(), logger: TestDatabase.logger)
        #expect(rewritten.firstBrokenRow == nil, "the rewritten chain is consistent in itself")
        #expect(rewritten.rewrittenRows == Array(seqs[1...]) && !rewritten.isIntact)

        // Cut the last two rows off: what is left is a consistent prefix, but checkpointed rows are gone.
        _ = try await asOwner(handle) { connection in
            try await connection.query("DELETE FROM app.audit_log WHERE seq >= \(seqs[2])", logger: TestDatabase.logger)
        }
        let truncated = try await handle.admin.auditTrail.verify(against: checkpoints.read(), logger: TestDatabase.logger)
        #expect(truncated.firstBrokenRow == nil && truncated.missingRows == Array(seqs[2...]))

        // A checkpoint file edited by hand is refused line by line.
        let text = try String(contentsOfFile: checkpoints.path, encoding: .utf8)
        try text.replacingOccurrences(of: "\"seq\":\(seqs[0])", with: "\"seq\":\(seqs[0] + 100)")
            .write(toFile: checkpoints.path, atomically: true, encoding: .utf8)
        #expect(throws: TenantScopeError.self) { try checkpoints.read() }

        try await asOwner(handle) { connection in
            try await connection.query("DELETE FROM app.audit_log", logger: TestDatabase.logger)
            try await connection.query("ALTER TABLE app.audit_log ENABLE TRIGGER audit_log_append_only", logger: TestDatabase.logger)
        }
    }
}
