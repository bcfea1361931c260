import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The roll-up service rests when nothing changed (architecture decision 32): ingest queues what it
/// changed (each actor's statements per day, decision 54) in its own transaction, the service catches up
/// only tenants with queued work, and learner days and enrollment outcomes follow as deltas that always
/// equal a rebuild.
@Suite(.database) struct RollupQueueTests {
    static let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "queue"])

    func count(_ sql: String, _ tenant: TenantID, _ handle: TestDatabase) async throws -> Int {
        try await handle.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql)).collect().first!.decode(Int.self)
        }
    }

    func refreshedAt(_ tenant: TenantID, _ handle: TestDatabase) async throws -> Date? {
        try await handle.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT refreshed_at FROM app.rollup_state").collect().first?.decode(Date.self)
        }
    }

    func store(_ json: String, _ tenant: TenantID, _ handle: TestDatabase) async throws {
        _ = try await handle.database.statements.store(
            try StatementBatch.parse(Data(json.utf8), validator: Self.validator), in: tenant.testScope, logger: TestDatabase.logger)
    }

    func pending(_ rollups: RollupService) async throws -> Set<TenantID> {
        Set(try await rollups.pendingWork().map(\.tenant))
    }

    /// A pass catches up two tenants at once (architecture decision 79): while one tenant's catch-up waits (here for its
    /// derivation lock, held by hand), the other's goes on and commits. Each tenant is held in turn, so a pass that takes
    /// tenants one at a time fails whichever order it takes them in.
    @Test func aPassCatchesUpTenantsAtOnceSoOneThatWaitsHoldsUpNoOther() async throws {
        let handle = try TestDatabase.current
        // Waits for a lock held by hand as long as the test holds it (decision 86 would give up after 30 s).
        let rollups = RollupService(database: handle.database, concurrency: 2, lockWait: .seconds(3600), logger: TestDatabase.logger)
        let first = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("first")), name: "First", logger: TestDatabase.logger)
        let second = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("second")), name: "Second", logger: TestDatabase.logger)
        for (held, other) in [(first, second), (second, first)] {
            for tenant in [first, second] {
                try await store(XAPIJSON.statement(actor: "mailto:\(UUID().uuidString.prefix(8))@example.com"), tenant.id, handle)
            }
            try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
                let locks = DerivationLockProbe(connection: connection)
                try await locks.hold(held.id)
                let pass = Task { try await rollups.pass(among: [first.id, second.id]) }
                var otherCaughtUp = false
                for _ in 0..<300 {
                    otherCaughtUp = !(try await pending(rollups).contains(other.id))
                    if otherCaughtUp { break }
                    try await Task.sleep(for: .milliseconds(100))
                }
                #expect(otherCaughtUp, "\(other.slug) was not caught up while \(held.slug) waited")
                #expect(try await pending(rollups).contains(held.id), "the held tenant's catch-up waits for its lock")
                try await locks.release(held.id)
                #expect(try await pass.value == 2)
            }
            #expect(!(try await pending(rollups).contains(held.id)))
        }
    }

    /// A pass that quiet ingest started catches up two tenants at once, and once this process's ingest queues work
    /// again it starts no more than the interval's concurrency (one): it does not go on taking the cores of the ingest
    /// that follows. Every tenant's derivation lock is held by hand, so the catch-ups the pass has started are the
    /// backends waiting for those locks. Fails when the pass keeps its quiet concurrency after ingest resumes.
    @Test func aQuietPassFallsBackToTheIntervalsConcurrencyOnceIngestResumes() async throws {
        let handle = try TestDatabase.current
        // A wake-up of the test's own: other tests' ingest into the shared database notes the database's.
        let wakeup = RollupWakeup()
        let rollups = RollupService(database: handle.database, concurrency: 1, quietConcurrency: 2, wakeup: wakeup, lockWait: .seconds(3600),
                                    logger: TestDatabase.logger)
        var tenants: [TenantID] = []
        for number in 1...4 {
            let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("resume\(number)")), name: "Resume", logger: TestDatabase.logger)
            try await store(XAPIJSON.statement(actor: "mailto:resume\(number)@example.com"), tenant.id, handle)
            tenants.append(tenant.id)
        }
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            let locks = DerivationLockProbe(connection: connection)
            for tenant in tenants { try await locks.hold(tenant) }
            // The tenants whose catch-up waits for its lock: the ones the pass has started.
            func waiting() async throws -> Set<TenantID> {
                var found = Set<TenantID>()
                for tenant in tenants where try await locks.waiter(tenant) != nil { found.insert(tenant) }
                return found
            }
            func waitFor(_ condition: (Set<TenantID>) -> Bool) async throws -> Set<TenantID> {
                var current = try await waiting()
                for _ in 0..<600 where !condition(current) {
                    try await Task.sleep(for: .milliseconds(100))
                    current = try await waiting()
                }
                return current
            }
            let among = Set(tenants)
            let pass = Task { try await rollups.pass(among: among, concurrency: 2, onceIngestResumes: 1) }
            let first = try await waitFor { $0.count == 2 }
            #expect(first.count == 2, "a quiet pass starts two catch-ups at once; waiting: \(first.count)")
            wakeup.noteQueued()  // ingest resumes
            for tenant in first { try await locks.release(tenant) }
            let next = try await waitFor { !$0.isEmpty && $0.isDisjoint(with: first) }
            #expect(next.count == 1 && next.isDisjoint(with: first), "one catch-up after the first two; waiting: \(next.count)")
            // Both of the first two have finished; a second catch-up at the quiet concurrency would have started by now.
            for _ in 0..<600 where !(try await pending(rollups)).isDisjoint(with: first) {
                try await Task.sleep(for: .milliseconds(100))
            }
            try await Task.sleep(for: .milliseconds(500))
            let settled = try await waiting()
            #expect(settled.count == 1, "once ingest resumed the pass keeps to one catch-up at a time; waiting: \(settled.count)")
            for tenant in tenants where !first.contains(tenant) { try await locks.release(tenant) }
            #expect(try await pass.value == 4)
        }
    }

    /// A pass that quiet ingest started never catches up fewer tenants at once than a pass at the interval: the quiet
    /// concurrency is raised to `--rollup-concurrency` where that is higher.
    @Test func aQuietPassNeverCatchesUpFewerTenantsThanAPassAtTheInterval() throws {
        let handle = try TestDatabase.current
        #expect(RollupService(database: handle.database, concurrency: 4, logger: TestDatabase.logger).quietConcurrency == 4)
        #expect(RollupService(database: handle.database, concurrency: 1, logger: TestDatabase.logger).quietConcurrency
                    == RollupService.defaultQuietConcurrency)
    }

    /// The wait between passes ends as quiet when this process's ingest noted work and has been quiet for the quiet
    /// period, also when that is as long as the interval (the pass then catches up at the quiet concurrency); without
    /// a note it ends at the interval, not quiet. Fails when the interval's end is looked at before the note.
    @Test func aWaitAsLongAsTheQuietPeriodEndsQuietWhenIngestNotedWork() async throws {
        let handle = try TestDatabase.current
        let wakeup = RollupWakeup()
        let rollups = RollupService(database: handle.database, interval: .milliseconds(200), quietPeriod: .milliseconds(200),
                                    wakeup: wakeup, logger: TestDatabase.logger)
        #expect(await rollups.waitForNextPass() == false, "nothing noted: the interval ends the wait")
        wakeup.noteQueued()
        #expect(await rollups.waitForNextPass() == true, "work noted, then quiet for the quiet period")
    }

    /// A catch-up gives up waiting for its tenant's derivation lock after its lock wait (decision 86; one second here)
    /// and says the tenant is busy; a pass then goes on to the other tenants (here one at a time) and leaves the busy
    /// one's queue for the next pass. Fails when the catch-up waits for the lock until its four-minute statement timeout
    /// (the pass then ends with a failure, not a busy tenant, four minutes later).
    @Test func aCatchUpGivesUpOnABusyTenantSoAPassGoesOn() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, concurrency: 1, lockWait: .seconds(1), logger: TestDatabase.logger)
        let busy = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("busy")), name: "Busy", logger: TestDatabase.logger)
        let other = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("other")), name: "Other", logger: TestDatabase.logger)
        for tenant in [busy, other] {
            try await store(XAPIJSON.statement(actor: "mailto:\(UUID().uuidString.prefix(8))@example.com"), tenant.id, handle)
        }
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            let locks = DerivationLockProbe(connection: connection)
            try await locks.hold(busy.id)
            let direct = Task { try await rollups.catchUp(busy.id) }
            let caughtUp = try await rollups.pass(among: [busy.id, other.id])
            await #expect(throws: RollupTenantBusy.self) { try await direct.value }
            #expect(caughtUp == 1, "the pass catches up the other tenant and leaves the busy one")
            let pending = try await pending(rollups)
            #expect(pending.contains(busy.id) && !pending.contains(other.id))
            try await locks.release(busy.id)
        }
        #expect(try await rollups.pass(among: [busy.id]) == 1, "the next pass takes the busy tenant's queue")
    }

    /// A catch-up that waits for its tenant's derivation lock holds no lock on any table (migration 48): a statement
    /// that needs a strong lock on one (a migration's `ALTER TABLE`) would otherwise queue behind it, and every other
    /// tenant's catch-up behind that statement. Fails when the catch-up reads a table before it takes the lock.
    @Test func aCatchUpWaitingForItsTenantsLockHoldsNoTableLock() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, lockWait: .seconds(3600), logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("waiting")), name: "Waiting", logger: TestDatabase.logger)
        try await store(XAPIJSON.statement(actor: "mailto:waiting@example.com"), tenant.id, handle)
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            let locks = DerivationLockProbe(connection: connection)
            try await locks.hold(tenant.id)
            let catchUp = Task { try await rollups.catchUp(tenant.id) }
            let pid = try #require(try await locks.awaitWaiter(tenant.id), "the catch-up did not wait for the tenant's lock within 60 s")
            // Any table locked here but the tenant gate's was read by the catch-up.
            let held = try await locks.appTableLocks(of: pid)
            try await locks.release(tenant.id)
            #expect(held.isEmpty, "the waiting catch-up holds locks on \(held)")
            #expect(try await catchUp.value.derivedActors == 1, "once the lock is free the catch-up goes on")
        }
    }

    @Test func theRollupOptionsRefuseWhatIsOutOfRangeBeforeTouchingADatabase() async throws {
        for (arguments, message) in [
            (["serve", "--rollup-concurrency", "0"], "--rollup-concurrency takes 1 to 16 tenants, got 0"),
            (["serve", "--rollup-concurrency", "17"], "--rollup-concurrency takes 1 to 16 tenants, got 17"),
            (["rollups", "catch-up", "--concurrency", "0"], "--concurrency takes 1 to 16 tenants, got 0"),
            (["serve", "--rollup-quiet-period", "9"], "--rollup-quiet-period takes 0 or seconds between 0.01 and --rollup-interval (5.0), got 9.0"),
            (["serve", "--rollup-quiet-period", "0.001"], "--rollup-quiet-period takes 0 or seconds between 0.01"),
            (["serve", "--rollup-quiet-concurrency", "0"], "--rollup-quiet-concurrency takes 1 to 16 tenants, got 0"),
            (["serve", "--rollup-lock-wait", "0"], "--rollup-lock-wait takes seconds between 0.1 and 3600, got 0.0"),
            (["serve", "--rollup-interval", "0.05", "--rollup-quiet-period", "0.1"], "--rollup-quiet-period takes 0 or seconds between 0.01 and --rollup-interval (0.05), got 0.1"),
        ] {
            let result = try await TenantScopeBinary.run(arguments + ["--database-url", "postgresql://nobody@127.0.0.1:1/none"])
            #expect(result.status != 0 && result.output.contains(message), "\(arguments): \(result.output)")
        }
        // An interval shorter than the default quiet period shortens the quiet period with it: the options are accepted
        // and the server goes on to the database (which is not there).
        let short = try await TenantScopeBinary.run(["serve", "--rollup-interval", "0.05", "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
        #expect(short.status != 0 && short.output.contains("database") && !short.output.contains("--rollup"), "\(short.output)")
    }

    @Test func aPassCatchesUpOnlyTenantsWithQueuedWorkAndNothingAtRest() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let busy = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("busy")), name: "Busy", logger: TestDatabase.logger)
        let quiet = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("quiet")), name: "Quiet", logger: TestDatabase.logger)
        for tenant in [busy, quiet] {
            try await store(XAPIJSON.statement(actor: "mailto:first@example.com"), tenant.id, handle)
        }
        #expect(try await pending(rollups).isSuperset(of: [busy.id, quiet.id]), "a stored batch queues its tenant's work")
        try await rollups.catchUp(busy.id)
        try await rollups.catchUp(quiet.id)
        let pendingAfter = try await pending(rollups)
        #expect(!pendingAfter.contains(busy.id) && !pendingAfter.contains(quiet.id), "a catch-up takes every queued row")
        let quietCaughtUp = try #require(try await refreshedAt(quiet.id, handle))

        // Only the tenant that received statements is worked on; the other is not even visited.
        try await store(XAPIJSON.statement(actor: "mailto:second@example.com"), busy.id, handle)
        #expect(try await pending(rollups).contains(busy.id))
        // The pass is limited to this test's tenants: the database is shared with other tests' tenants.
        #expect(try await rollups.pass(among: [busy.id, quiet.id]) == 1)
        #expect(!(try await pending(rollups).contains(busy.id)))
        #expect(try await refreshedAt(quiet.id, handle) == quietCaughtUp, "a tenant with nothing queued is not caught up")
        #expect(try await count("SELECT count(*)::int FROM app.learners", busy.id, handle) == 2)

        // At rest, a catch-up has nothing to do.
        let again = try await rollups.catchUp(busy.id)
        #expect(again.derivedActors == 0 && again.days == -1)
    }

    /// A chunk of a pass is one call (migration 40) in which the roll-ups run in a block of their own: when they fail,
    /// the actors derived before them still commit, the pass reports the failure, and the next pass catches the
    /// roll-ups up from the queue rows the failure left. The failure is a check constraint that refuses this tenant's
    /// watermark, the roll-ups' last write (the tests' other tenants are untouched). Fails when the call rolls back
    /// whole (no learner derived) or swallows the failure (no error, or the queue rows gone).
    @Test func aFailedRollupCatchUpKeepsTheDerivedChunkAndIsRetried() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("stuck")), name: "Stuck", logger: TestDatabase.logger)
        try await store(XAPIJSON.statement(actor: "mailto:first@example.com"), tenant.id, handle)
        let constraint = "rollup_state_refuses_\("\(tenant.id)".prefix(8))"
        try await asOwner(handle, "ALTER TABLE app.rollup_state ADD CONSTRAINT \(constraint) CHECK (tenant_id <> '\(tenant.id)') NOT VALID")
        await #expect(throws: RollupCatchUpFailed.self) { try await rollups.catchUp(tenant.id) }
        try await asOwner(handle, "ALTER TABLE app.rollup_state DROP CONSTRAINT \(constraint)")

        #expect(try await count("SELECT count(*)::int FROM app.learners", tenant.id, handle) == 1, "the derived chunk committed")
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 0)
        #expect(try await count("SELECT count(*)::int FROM app.daily_learner_activity", tenant.id, handle) == 0)
        #expect(try await count("SELECT count(*)::int FROM app.rollup_queue", tenant.id, handle) == 1, "the roll-ups' queue rows wait")
        #expect(try await refreshedAt(tenant.id, handle) == nil)

        let retried = try await rollups.catchUp(tenant.id)
        #expect(retried.derivedActors == 0 && retried.days == 1)
        #expect(try await count("SELECT count(*)::int FROM app.daily_learner_activity", tenant.id, handle) == 1)
        #expect(try await count("SELECT count(*)::int FROM app.rollup_queue", tenant.id, handle) == 0)
    }

    func asOwner(_ handle: TestDatabase, _ sql: String) async throws {
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            _ = try await connection.query(PostgresQuery(unsafeSQL: sql), logger: TestDatabase.logger).collect()
        }
    }

    /// The service's look at the queues counts actors to derive and per-day counts apart (migration 35): two
    /// actors' batch over three days is two actors and six per-actor days, however the queue tables hold them
    /// (one row for the batch's actors and one per day since migration 36; voiding's rows are single).
    @Test func pendingWorkCountsEachQueueApart() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("apart")), name: "Apart", logger: TestDatabase.logger)
        let days = (1...3).map { ISO8601Timestamp.format(Date().addingTimeInterval(Double(-$0) * 86_400)) }
        let batch = ["mailto:apart@example.com", "mailto:together@example.com"].flatMap { actor in
            days.map { XAPIJSON.statement(actor: actor, extra: #","timestamp":"\#($0)""#) }
        }
        try await store(XAPIJSON.array(batch), tenant.id, handle)

        let work = try #require(try await rollups.pendingWork().first { $0.tenant == tenant.id })
        #expect(work.queuedActors == 2)
        #expect(work.queuedDays == 6)
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue", tenant.id, handle) == 1)
        #expect(try await count("SELECT count(*)::int FROM app.rollup_queue", tenant.id, handle) == 3)
        // A voiding statement queues its target's actor and day as single rows, which count one each.
        try await rollups.catchUp(tenant.id)
        let target = UUID()
        try await store(XAPIJSON.statement(id: target, actor: "mailto:apart@example.com"), tenant.id, handle)
        try await store(XAPIJSON.voiding(target), tenant.id, handle)
        let mixed = try #require(try await rollups.pendingWork().first { $0.tenant == tenant.id })
        #expect(try await count("SELECT count(*)::int FROM app.learning_facts_queue WHERE actor_key IS NOT NULL", tenant.id, handle) == 1)
        #expect(try await count("SELECT count(*)::int FROM app.rollup_queue WHERE actor_key IS NOT NULL", tenant.id, handle) == 1)
        #expect(mixed.queuedActors == 2, "the target's batch row and voiding's row")
        #expect(mixed.queuedDays == 2, "+1 from the target's batch, -1 from voiding")
        try await rollups.catchUp(tenant.id)
        #expect(!(try await pending(rollups).contains(tenant.id)))
    }

    @Test func daysQueuedByAnOpenBatchWaitForItsCommit() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("open")), name: "Open", logger: TestDatabase.logger)
        try await store(XAPIJSON.statement(actor: "mailto:early@example.com"), tenant.id, handle)
        try await rollups.catchUp(tenant.id)
        let old = Date().addingTimeInterval(-30 * 86_400)
        let late = try StatementBatch.parse(
            Data(XAPIJSON.statement(actor: "mailto:late@example.com", extra: #","timestamp":"\#(ISO8601Timestamp.format(old))""#).utf8), validator: Self.validator)
        try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            _ = try await StatementStore.insert(late, queueingDerivation: true, on: connection)
            // The service passes while the batch is still open: it must neither see nor consume its rows.
            try await rollups.catchUp(tenant.id)
        }
        let day = ISO8601Timestamp.day(old)
        let activity = "SELECT count(*)::int FROM app.daily_learner_activity WHERE day = '\(day)'"
        #expect(try await count(activity, tenant.id, handle) == 0)
        #expect(try await count("SELECT count(*)::int FROM app.rollup_queue WHERE day = '\(day)'", tenant.id, handle) == 1)
        try await rollups.catchUp(tenant.id)
        #expect(try await count(activity, tenant.id, handle) == 1, "the late day is recomputed once its batch committed")
    }

    /// Derivation reads an actor's new statements from the earliest `stored` its queue rows name (decision
    /// 54). A batch that commits after a later batch of the same actor was derived has an older `stored` than
    /// what was derived: its own queue row still takes the merge back to it.
    @Test func aBatchCommittedAfterALaterOneWasDerivedIsStillMerged() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("late")), name: "Late", logger: TestDatabase.logger)
        func named(_ name: String, daysAgo: Double) -> String {
            let when = ISO8601Timestamp.format(Date().addingTimeInterval(-daysAgo * 86_400))
            return #"{"actor":{"mbox":"mailto:late@example.com","name":"\#(name)"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"#
                + #""object":{"id":"https://example.com/activity/1"},"timestamp":"\#(when)"}"#
        }
        let displayName = "SELECT display_name FROM app.learners WHERE actor_key = 'mbox:mailto:late@example.com'"
        func name() async throws -> String? {
            try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: displayName)).collect().first?.decode(String?.self)
            }
        }
        try await store(named("Second", daysAgo: 5), tenant.id, handle)
        try await rollups.catchUp(tenant.id)
        #expect(try await name() == "Second")

        let early = try StatementBatch.parse(Data(named("First", daysAgo: 10).utf8), validator: Self.validator)
        let later = named("Third", daysAgo: 1)
        try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            _ = try await StatementStore.insert(early, queueingDerivation: true, storedInTransaction: true, on: connection)
            // While this batch is open, a later one commits and is derived: `derived_through` moves past this
            // batch's `stored`.
            try await store(later, tenant.id, handle)
            try await rollups.catchUp(tenant.id)
        }
        #expect(try await name() == "Second", "the open batch was not merged before it committed")
        try await rollups.catchUp(tenant.id)
        #expect(try await name() == "First", "the batch that committed late is merged: its name is the earliest by timestamp")
    }

    /// Enrollment outcomes kept as deltas equal a rebuild from the enrollments, through completions,
    /// region changes and voiding, across many small passes.
    @Test(arguments: [UInt64(5), 6])
    func enrollmentOutcomeDeltasEqualARebuild(seed: UInt64) async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("delta")), name: "Delta", logger: TestDatabase.logger)
        let statements = RandomStatements.make(seed: seed, count: 160, start: Date().addingTimeInterval(-30 * 86_400), spanDays: 31, host: "delta.example")
        for chunk in stride(from: 0, to: statements.count, by: 20) {
            try await store(XAPIJSON.array(Array(statements[chunk..<min(chunk + 20, statements.count)])), tenant.id, handle)
            try await rollups.catchUp(tenant.id)
        }
        let ids = statements.map { XAPIJSON.object($0)["id"]!.stringValue! }
        try await store(XAPIJSON.array(stride(from: 0, to: ids.count, by: 7).map { RandomStatements.voiding(ids[$0]) }), tenant.id, handle)
        try await rollups.catchUp(tenant.id)

        let outcomes = """
            SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s|%s', day, course_id, cohort, region, days_to_complete, enrollments),
                                       ',' ORDER BY day, course_id, cohort, region, days_to_complete), '')
            FROM app.daily_enrollment_outcomes
            """
        let (incremental, rebuilt) = try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            let incremental = try await connection.query(PostgresQuery(unsafeSQL: outcomes)).collect().first!.decode(String.self)
            _ = try await connection.query("SELECT app.refresh_enrollment_outcomes()").collect()
            let rebuilt = try await connection.query(PostgresQuery(unsafeSQL: outcomes)).collect().first!.decode(String.self)
            return (incremental, rebuilt)
        }
        #expect(!rebuilt.isEmpty)
        #expect(incremental == rebuilt)
    }

    /// A merge changes the outcome sums by the enrollments it changes (migration 47), except for a learner whose
    /// region moves, whose every outcome row is taken whole before and after. When one pass moves both a learner's
    /// region and one of its enrollments, that enrollment's old row must leave the sums once: here it shares its row
    /// with another learner's enrollment (a count of 2), so taking it away twice would take the other's too, where
    /// a count of 1 would hide the mistake (a row that reaches zero is deleted either way).
    @Test func aLearnerWhoseRegionAndEnrollmentMoveTogetherLeavesItsOldOutcomeRowOnce() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("moves")), name: "Moves", logger: TestDatabase.logger)
        var utc = Calendar(identifier: .gregorian)
        utc.timeZone = TimeZone(identifier: "UTC")!
        let day = utc.startOfDay(for: Date().addingTimeInterval(-10 * 86_400))
        func statement(_ learner: String, hoursAfter: Double, region: String) -> String {
            let when = ISO8601Timestamp.format(day.addingTimeInterval(hoursAfter * 3_600))
            return #"{"actor":{"mbox":"mailto:\#(learner)@moves.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"#
                + #""object":{"id":"https://moves.example/course/1","definition":{"type":"http://adlnet.gov/expapi/activities/course"}},"#
                + #""context":{"extensions":{"https://tenantscope.dev/xapi/extensions/learner-region":"\#(region)"}},"#
                + #""timestamp":"\#(when)"}"#
        }
        let outcomes = """
            SELECT coalesce(string_agg(format('%s|%s|%s|%s', day, cohort, region, enrollments), ',' ORDER BY day, cohort, region), '')
            FROM app.daily_enrollment_outcomes
            """
        func sums(rebuilding: Bool = false) async throws -> String {
            try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                if rebuilding { _ = try await connection.query("SELECT app.refresh_enrollment_outcomes()").collect() }
                return try await connection.query(PostgresQuery(unsafeSQL: outcomes)).collect().first!.decode(String.self)
            }
        }

        try await store("[\(statement("a", hoursAfter: 13, region: "north")),\(statement("b", hoursAfter: 12, region: "north"))]", tenant.id, handle)
        try await rollups.catchUp(tenant.id)
        let month = ISO8601Timestamp.format(day).prefix(7)
        #expect(try await sums() == "\(ISO8601Timestamp.format(day).prefix(10))|\(month)|north|2", "both enrollments share one outcome row")

        // One statement, two days earlier: learner a's enrollment starts earlier and its region is now the earlier one.
        try await store(statement("a", hoursAfter: -36, region: "south"), tenant.id, handle)
        try await rollups.catchUp(tenant.id)
        let merged = try await sums()
        #expect(merged.contains("|north|1"), "learner b's enrollment is still counted: \(merged)")
        #expect(merged == (try await sums(rebuilding: true)))
    }

    /// Every roll-up table a pass keeps incrementally (learner days, day totals, each learner's active-day
    /// ranges, enrollment outcomes) equals a full rebuild of the same statements. The batches arrive out of
    /// time order, so later ones bring statements for days already caught up and new days to known learners
    /// (added to their ranges); voiding then takes days away (those learners are rebuilt).
    @Test(arguments: [UInt64(7), 8])
    func incrementalRollupsEqualARebuild(seed: UInt64) async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("increments")), name: "Increments",
                                                          logger: TestDatabase.logger)
        let statements = RandomStatements.make(seed: seed, count: 240, start: Date().addingTimeInterval(-40 * 86_400), spanDays: 41,
                                               host: "increments.example")
        let ids = statements.map { XAPIJSON.object($0)["id"]!.stringValue! }
        for chunk in stride(from: 0, to: 200, by: 20) {
            try await store(XAPIJSON.array(Array(statements[chunk..<chunk + 20])), tenant.id, handle)
            try await rollups.catchUp(tenant.id)
        }
        try await store(XAPIJSON.array(stride(from: 0, to: 200, by: 6).map { RandomStatements.voiding(ids[$0]) }), tenant.id, handle)
        try await rollups.catchUp(tenant.id)
        for chunk in stride(from: 200, to: 240, by: 20) {
            try await store(XAPIJSON.array(Array(statements[chunk..<chunk + 20])), tenant.id, handle)
            try await rollups.catchUp(tenant.id)
        }

        let incremental = try await rollupContents(tenant.id, handle)
        try await rollups.catchUp(tenant.id, fullRebuild: true)
        let rebuilt = try await rollupContents(tenant.id, handle)
        #expect(rebuilt.values.allSatisfy { !$0.isEmpty })
        for (table, rows) in rebuilt {
            #expect(incremental[table] == rows, "\(table) kept incrementally differs from a rebuild")
        }
    }

    /// Ingest queues each actor's counted statements per day as a delta, voiding queues the statements it
    /// takes away, and a pass adds them without recounting (decision 54). A day queued whole (erasure writes
    /// such rows) is recounted instead, and the deltas of the statements that recount counted must leave the
    /// queue with it: those the pass took before it recounted are set aside, and those still queued when the
    /// recount ran are deleted by the recount's own statement. Each stage is compared with a rebuild; the test
    /// fails if either half is removed (the day would be counted twice).
    @Test func aDayRecountedWholeTakesTheDeltasItCounted() async throws {
        let handle = try TestDatabase.current
        let rollups = RollupService(database: handle.database, logger: TestDatabase.logger)
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("whole")), name: "Whole", logger: TestDatabase.logger)
        let day = Date().addingTimeInterval(-3 * 86_400)
        let dayText = ISO8601Timestamp.day(day)
        func onDay(_ actor: String, id: UUID = UUID()) -> String {
            XAPIJSON.statement(id: id, actor: actor, extra: #","timestamp":"\#(ISO8601Timestamp.format(day))""#)
        }
        func run(_ sql: String) async throws {
            try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                _ = try await connection.query(PostgresQuery(unsafeSQL: sql)).collect()
            }
        }
        func expectEqualToARebuild(_ stage: String) async throws {
            let incremental = try await rollupContents(tenant.id, handle)
            try await rollups.catchUp(tenant.id, fullRebuild: true)
            let rebuilt = try await rollupContents(tenant.id, handle)
            #expect(rebuilt["daily_learner_activity"]?.isEmpty == false)
            for (table, rows) in rebuilt {
                #expect(incremental[table] == rows, "\(stage): \(table) differs from a rebuild")
            }
        }

        let voided = UUID()
        try await store(XAPIJSON.array([onDay("mailto:a@example.com", id: voided), onDay("mailto:b@example.com")]), tenant.id, handle)
        #expect(try await count("SELECT count(*)::int FROM app.rollup_queue", tenant.id, handle) == 1, "a batch queues one row per day")
        #expect(try await count("""
            SELECT count(*)::int FROM app.rollup_queue q, unnest(q.actor_keys, q.statement_counts) AS u(k, n) WHERE u.n = 1
            """, tenant.id, handle) == 2, "the day's row holds one delta per actor")
        try await rollups.catchUp(tenant.id)
        try await store(XAPIJSON.voiding(voided), tenant.id, handle)
        #expect(try await count("SELECT count(*)::int FROM app.rollup_queue WHERE statements = -1", tenant.id, handle) == 1,
                "voiding queues the statement it takes away")
        try await rollups.catchUp(tenant.id)
        try await expectEqualToARebuild("after a delta pass with voiding")

        // Taken by the pass together with the day queued whole.
        try await store(XAPIJSON.array([onDay("mailto:a@example.com"), onDay("mailto:c@example.com")]), tenant.id, handle)
        try await run("INSERT INTO app.rollup_queue (day) VALUES ('\(dayText)')")
        try await rollups.catchUp(tenant.id)
        try await expectEqualToARebuild("after a pass that recounted the day")

        // Still queued when each recount ran: as a batch that commits after the pass took the queue.
        for recount in ["refresh_learner_activity_days", "rebuild_learner_activity_days"] {
            try await store(onDay("mailto:b@example.com"), tenant.id, handle)
            try await run("SELECT app.lock_tenant_derivation(), app.\(recount)(ARRAY['\(dayText)']::date[])")
            #expect(try await count("SELECT count(*)::int FROM app.rollup_queue WHERE actor_key IS NOT NULL OR actor_keys IS NOT NULL",
                                    tenant.id, handle) == 0,
                    "\(recount) takes the deltas of the statements it counted")
            try await rollups.catchUp(tenant.id)
            try await expectEqualToARebuild("after \(recount) ran with deltas queued")
        }
    }

    /// The tenant's roll-up rows, per table, as text in a fixed order.
    func rollupContents(_ tenant: TenantID, _ handle: TestDatabase) async throws -> [String: String] {
        try await handle.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            let rows = try await connection.query("""
                SELECT 'daily_learner_activity', coalesce(string_agg(format('%s|%s|%s', day, learner_hash, statements), ',' ORDER BY day, learner_hash), '')
                FROM app.daily_learner_activity
                UNION ALL
                SELECT 'daily_active_learners', coalesce(string_agg(format('%s|%s|%s', day, learners, statements), ',' ORDER BY day), '')
                FROM app.daily_active_learners
                UNION ALL
                SELECT 'learner_active_days', coalesce(string_agg(format('%s|%s', learner_hash, active), ',' ORDER BY learner_hash), '')
                FROM app.learner_active_days
                UNION ALL
                SELECT 'daily_enrollment_outcomes', coalesce(string_agg(format('%s|%s|%s|%s|%s|%s', day, course_id, cohort, region, days_to_complete,
                                                                               enrollments), ',' ORDER BY day, course_id, cohort, region, days_to_complete), '')
                FROM app.daily_enrollment_outcomes
                """).collect()
            return Dictionary(uniqueKeysWithValues: try rows.map { try $0.decode((String, String).self) })
        }
    }
}
