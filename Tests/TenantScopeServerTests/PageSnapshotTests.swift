import SnapshotTesting
import Testing
import TenantScopeCore
@testable import TenantScopeServer

extension Snapshotting where Value == String, Format == String {
    /// A page as HTML, one tag per line so that a change reads as a small diff.
    static var html: Snapshotting {
        var strategy = Snapshotting.lines.pullback { (page: String) in page.replacingOccurrences(of: "><", with: ">\n<") }
        strategy.pathExtension = "html"
        return strategy
    }
}

/// Every page, rendered from a fixed model and compared with the HTML recorded under `__Snapshots__`
/// (record again with `SNAPSHOT_TESTING_RECORD=failed swift test --filter PageSnapshotTests`).
@Suite(.snapshots) struct PageSnapshotTests {
    @Test func tenantDashboardForAnAdmin() {
        assertSnapshot(of: TenantDashboard.View(model: PageFixtures.adminDashboard).render(), as: .html)
    }

    @Test func tenantDashboardWithCustomReportPanels() {
        var model = PageFixtures.adminDashboard
        let rows: [[SQLValue]] = (1...60).map { [.text("Course \($0)"), .integer($0 * 3), .null] }
        model.customPanels = [
            CustomReportPanel(name: "course_sizes", title: "Learners per course",
                              result: SQLResult(columns: [.init(name: "course", type: "TEXT"), .init(name: "learners", type: "BIGINT"),
                                                          .init(name: "note", type: "TEXT")],
                                                rows: rows, truncated: false, durationMilliseconds: 4)),
            CustomReportPanel(name: "broken", title: "Broken report", error: "column occurred_at has type INTERVAL, which the SQL surface does not return; cast it to text"),
        ]
        // The custom panels' grid only: the rest of the page is the admin dashboard's snapshot.
        assertSnapshot(of: TenantDashboard.View(model: model).customPanels.render(), as: .html)
    }

    @Test func tenantDashboardWithoutData() {
        assertSnapshot(of: TenantDashboard.View(model: PageFixtures.emptyDashboard).render(), as: .html)
    }

    @Test func tenantDashboardPreviewedByAnOperator() {
        let model = PageFixtures.dashboard(presentation: .init(
            banner: "Preview: tenant scope Acme Learning Co. (acme) — what its users see; opened by platform operator ops-1, audited",
            filterAction: "/platform/preview/acme"))
        assertSnapshot(of: TenantDashboard.View(model: model).render(), as: .html)
    }

    @Test func sharedViewOfOneCourse() {
        let filters = DashboardFilters(days: 90, course: "Safety basics")
        let model = PageFixtures.dashboard(presentation: .init(banner: "Shared view “Safety, quarter”", filterAction: nil), filters: filters)
        assertSnapshot(of: TenantDashboard.View(model: model).render(), as: .html)
    }

    @Test func savedViewsOfAViewer() {
        var views = PageFixtures.savedViews
        views.isAdmin = false
        views.links = []
        assertSnapshot(of: SavedViews.View(model: views).node.render(), as: .html)
    }

    @Test func exportsOfAnAdminWhileJobsRun() {
        assertSnapshot(of: DashboardExports.View(model: PageFixtures.exports).render(), as: .html)
    }

    @Test func exportsReloadingWhileJobsRun() {
        var model = PageFixtures.exports
        model.autoReload = true
        assertSnapshot(of: DashboardExports.View(model: model).render(), as: .html)
    }

    @Test func exportsOfAViewerWithoutAny() {
        let model = DashboardExports.Model(exports: [], seesAllExports: false, filters: DashboardFilters(days: 7), retentionDays: 7)
        assertSnapshot(of: DashboardExports.View(model: model).render(), as: .html)
    }

    @Test func platformAnalytics() {
        assertSnapshot(of: PlatformAnalytics.View(model: PageFixtures.platform).render(), as: .html)
    }

    @Test func courseEnrollments() {
        var model = PageFixtures.enrollments
        model.exportFormToken = "form-token-fixture"
        assertSnapshot(of: CourseEnrollments.View(model: model).render(), as: .html)
    }

    @Test func sharedLink() {
        let model = SharedLinkPage.Model(path: "/shared/5f0c1d2e-0000-4000-8000-000000000001.1796083200.c2lnbmF0dXJl", lifetimeDays: 7)
        assertSnapshot(of: SharedLinkPage.View(model: model).render(), as: .html)
    }

    @Test func message() {
        let model = MessagePage.Model(title: "Not allowed", text: "the report 'course_enrollments' is for tenant admins only")
        assertSnapshot(of: MessagePage.View(model: model).render(), as: .html)
    }
}
