import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// `app.learners_by_last_day` (migration 42, architecture decision 72) follows every kind of change to the learners'
/// active days through its triggers: a new learner (insert), a later day for a known learner (an upsert's update,
/// which moves the learner's last day), and a voided last day (the learner's active days rebuilt: delete, then
/// insert). `RollupPropertyTests` compares the table with the active days after each of its stages too; this suite
/// adds the moving last day, which its data do not produce.
@Suite(.serialized, .freshDatabase) struct LearnersByLastDayTests {
    /// The table's rows for the tenant, as (days before today, learners), and how many rows differ from the active days
    /// counted by last day.
    static func counts(_ world: RollupPropertyTests.World, _ tenant: TenantID) async throws -> (kept: [Int: Int], differing: Int) {
        let rows = try await world.database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT (current_date - last_day)::int, learners FROM app.learners_by_last_day")
                .collect().map { try $0.decode((Int, Int).self) }
        }
        let differing = try await RollupPropertyTests.lastDayCountsDifferingFromActiveDays(world, tenant)
        return (Dictionary(rows, uniquingKeysWith: +), differing)
    }

    /// A statement of `learner` at noon (UTC) `daysAgo` calendar days before today: a time of day of its own, since a
    /// fixed interval before now (as this test had: 3.2 days) falls on another calendar day when the test runs in the
    /// first hours of the UTC day, and the counts by day came out a day off.
    static func statement(_ id: UUID, learner: String, daysAgo: Int) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let noon = calendar.date(byAdding: .hour, value: 12 - 24 * daysAgo, to: calendar.startOfDay(for: Date()))!
        let at = ISO8601Timestamp.format(noon)
        return #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:\#(learner)@last-day.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://last-day.example/lesson"},"timestamp":"\#(at)"}"#
    }

    @Test func theCountsFollowNewLearnersMovingLastDaysAndVoiding() async throws {
        let handle = try TestDatabase.current
        let db = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("last-day")), name: "Last day",
                                                           logger: TestDatabase.logger)
        let world = RollupPropertyTests.World(
            database: db, runner: ReportRunner(catalog: try StandardReports.catalog(), database: db),
            rollups: RollupService(database: db, logger: TestDatabase.logger), tenants: [tenant]
        )

        // Two learners active three days ago: both counted on that day.
        try await RollupPropertyTests.ingest([Self.statement(UUID(), learner: "ann", daysAgo: 3),
                                              Self.statement(UUID(), learner: "bo", daysAgo: 3)], into: tenant.id, world: world)
        _ = try await world.rollups.catchUpAll(tenants: [tenant])
        var now = try await Self.counts(world, tenant.id)
        #expect(now.kept == [3: 2] && now.differing == 0, "new learners: \(now)")

        // Ann is active again a day ago: her last day moves, which an update of her row carries.
        let later = UUID()
        try await RollupPropertyTests.ingest([Self.statement(later, learner: "ann", daysAgo: 1)], into: tenant.id, world: world)
        _ = try await world.rollups.catchUpAll(tenants: [tenant])
        now = try await Self.counts(world, tenant.id)
        #expect(now.kept == [3: 1, 1: 1] && now.differing == 0, "a later day: \(now)")

        // That statement voided: her active days are rebuilt without the day, and her last day moves back.
        try await RollupPropertyTests.ingest([RandomStatements.voiding(later.uuidString.lowercased())], into: tenant.id, world: world)
        _ = try await world.rollups.catchUpAll(tenants: [tenant])
        now = try await Self.counts(world, tenant.id)
        #expect(now.kept == [3: 2] && now.differing == 0, "a voided last day: \(now)")

        // The served window count agrees with the raw statements throughout; checked here at the end.
        let served = try await RollupPropertyTests.report(world, tenant.id, "active_learners", [("days", "7")], [:], path: .served)
        let cold = try await RollupPropertyTests.report(world, tenant.id, "active_learners", [("days", "7")], [:], path: .cold)
        #expect(served == cold && served.first?[2] == .integer(2), "\(served)")
    }
}
