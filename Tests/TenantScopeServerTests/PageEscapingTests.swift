import Foundation
import Testing
import TenantScopeCore
@testable import TenantScopeServer

/// Names come from statements and users: a course, a cohort, a view or a learner named like markup
/// stays text on every page, in element content and in attribute values (Plot leaves attribute
/// values to us: see `Node+EscapedAttribute.swift`).
@Suite struct PageEscapingTests {
    static let hostile = "\" data-pwn=\"1\"><i>pwn</i><script>alert(1)</script>'&"

    /// No tag carries the injected attribute, and no injected element exists: every `<` of the
    /// name was escaped, and every `"` inside a tag too.
    static func expectInert(_ html: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(html.range(of: #"<[^<>]*data-pwn=""#, options: .regularExpression) == nil, "an attribute value was not escaped", sourceLocation: sourceLocation)
        #expect(!html.contains("<i>pwn") && !html.contains("<script"), "element content was not escaped", sourceLocation: sourceLocation)
    }

    @Test func theTenantDashboardKeepsHostileNamesAsText() {
        var model = PageFixtures.adminDashboard
        model.filters.course = Self.hostile
        model.courses[0].name = Self.hostile
        model.courseChoices = [Self.hostile]
        model.cohorts[0].name = Self.hostile
        model.presentation.banner = Self.hostile
        model.presentation.savedViews?.views[0].name = Self.hostile
        model.presentation.savedViews?.links[0].viewName = Self.hostile
        model.presentation.savedViews?.formToken = Self.hostile
        model.presentation.savedViews?.filters.course = Self.hostile
        model.presentation.exportFormToken = Self.hostile
        let html = TenantDashboard.View(model: model).render()
        Self.expectInert(html)
        // The course stays usable: its option and the drill-down link carry it, escaped.
        #expect(html.contains("value=\"&quot; data-pwn=&quot;1&quot;&gt;&lt;i&gt;pwn"))
    }

    @Test func aCustomReportPanelKeepsHostileTitlesColumnsAndValuesAsText() {
        var model = PageFixtures.adminDashboard
        let hostile = SQLResult(columns: [.init(name: Self.hostile, type: "TEXT")], rows: [[.text(Self.hostile)]], truncated: false,
                                durationMilliseconds: 1)
        model.customPanels = [
            CustomReportPanel(name: "hostile", title: Self.hostile, result: hostile),
            CustomReportPanel(name: "failing", title: "Failing", error: Self.hostile),
        ]
        let html = TenantDashboard.View(model: model).render()
        Self.expectInert(html)
        #expect(html.contains("id=\"custom-hostile\"") && html.contains("id=\"custom-failing\""))
    }

    @Test func theOtherPagesKeepHostileNamesAsText() {
        var enrollments = PageFixtures.enrollments
        enrollments.course = Self.hostile
        enrollments.enrollments[0].learner = Self.hostile
        enrollments.enrollments[0].cohort = Self.hostile
        Self.expectInert(CourseEnrollments.View(model: enrollments).render())

        var platform = PageFixtures.platform
        platform.operatorName = Self.hostile
        platform.features[0].name = Self.hostile
        platform.tenants[0].name = Self.hostile
        platform.tenants[0].slug = Self.hostile
        Self.expectInert(PlatformAnalytics.View(model: platform).render())

        var exports = PageFixtures.exports
        exports.filters.course = Self.hostile
        for index in exports.exports.indices {
            exports.exports[index].what = Self.hostile
            exports.exports[index].parameters = [Self.hostile]
            exports.exports[index].requestedBy = Self.hostile
            exports.exports[index].error = Self.hostile
            exports.exports[index].created = Self.hostile
        }
        exports.exports[2].downloadURL = Self.hostile
        Self.expectInert(DashboardExports.View(model: exports).render())

        Self.expectInert(SharedLinkPage.View(model: .init(path: Self.hostile, lifetimeDays: 7)).render())
        Self.expectInert(MessagePage.View(model: .init(title: Self.hostile, text: Self.hostile)).render())
    }

    /// The isolation report shows what servers and databases answered: any of it may be hostile.
    @Test func theIsolationReportKeepsHostileValuesAsText() {
        let hostileCheck = IsolationCheck(area: .http, attempt: Self.hostile, credential: Self.hostile, status: Self.hostile,
                                          outcome: .finding, detail: Self.hostile)
        let report = IsolationReport(
            serverURL: Self.hostile, startedAt: Date(timeIntervalSince1970: 0), finishedAt: Date(timeIntervalSince1970: 60),
            commit: Self.hostile, schemaVersion: 9,
            victim: .init(slug: Self.hostile, tenantID: Self.hostile, canary: Self.hostile), attacker: nil,
            checks: [hostileCheck, IsolationCheck(area: .database, attempt: "x", credential: "y", outcome: .passed)])
        let html = IsolationReportPage.render(report)
        Self.expectInert(html)
        #expect(html.contains("Isolation findings: 1 check found a way across tenants"))
        #expect(html.contains("What failed"))
    }
}
