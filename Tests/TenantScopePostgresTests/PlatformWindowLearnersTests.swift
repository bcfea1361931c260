import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The platform's count of a tenant's learners active in a window (`app.platform_window_learners`, behind
/// `tenant_overview`), which counts from each learner's last active day and tests only the learners whose last
/// day is after today against their ranges (migration 29).
@Suite(.database) struct PlatformWindowLearnersTests {
    /// D = today (UTC), a 30-day window D-29...D. Learners and their days:
    ///   a: D-40 (before the window)           — not counted
    ///   b: D-10                               — counted
    ///   c: D+5 only (dated in the future)     — not counted: no day in the window
    ///   d: D-10 and D+5                       — counted: its last day is after today, but D-10 is in the window
    ///   e: D (today, the window's last day)   — counted
    ///   f: D-29 (the window's first day)      — counted
    /// Counting every learner whose last day is on or after the window's start would count c; leaving out the
    /// learners whose last day is after today would miss d; a window one day short at either end would miss e or f.
    @Test func countsTheLearnersWithADayInTheWindowAndNoOthers() async throws {
        let handle = try TestDatabase.current
        let slug = try TenantSlug(TwoTenants.uniqueSlug("window"))
        let tenant = try await handle.admin.tenants.create(slug: slug, name: "Window learners", logger: TestDatabase.logger).id
        try await handle.database.sessions.run(tenant.testScope, access: .readWrite, logger: TestDatabase.logger) { c in
            try await c.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp")
                SELECT gen_random_uuid(), '{}', 'mbox:mailto:' || a || '@window.example', 'v', 'o',
                       (current_date + d)::timestamp AT TIME ZONE 'UTC' + interval '12 hours'
                FROM (VALUES ('a', -40), ('b', -10), ('c', 5), ('d', -10), ('d', 5), ('e', 0), ('f', -29)) AS s(a, d)
                """)
            try await c.execute("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        let runner = ReportRunner(catalog: try StandardReports.catalog(), database: handle.database)
        let scope = try ScopePolicy.scope(for: .platformAdmin(operator: "window-tests"), on: .platform, purpose: "reports")
        let rows = try await runner.run("tenant_overview", in: scope, parameters: [("days", "30")], logger: TestDatabase.logger).rows
        let row = try #require(rows.first { $0[0] == .text(slug.rawValue) })
        #expect(row[3] == .integer(4), "active learners of \(slug.rawValue): \(row)")
        // Control: the same tenant over 60 days also counts a.
        let wider = try await runner.run("tenant_overview", in: scope, parameters: [("days", "60")], logger: TestDatabase.logger).rows
        #expect(wider.first { $0[0] == .text(slug.rawValue) }?[3] == .integer(5))
    }
}
