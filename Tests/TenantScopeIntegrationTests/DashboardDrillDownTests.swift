import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The learner drill-down and the panels' CSV downloads over HTTP: both run in the session's tenant
/// scope, the drill-down for tenant admins only, and neither can be pointed at another tenant.
@Suite(.database) struct DashboardDrillDownTests {
    typealias Page = DashboardHTTPTests

    static let drillDown = "/dashboards/learning/enrollments?course=Canary+course"

    @Test func aViewerIsRefusedTheLearnerDrillDownAndAnAdminSeesOnlyTheirOwnLearners() async throws {
        try await Page().withApp { client, fixture, _ in
            let (viewerA, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer))
            let (adminA, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id, role: .admin))
            let (adminB, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.b.tenant.id, role: .admin))

            // A viewer gets 403 for the page and for its CSV, and sees no drill-down links.
            let refused = try await Page.page(client, Self.drillDown, cookie: viewerA)
            #expect(refused.0 == .forbidden && refused.1.contains("Not allowed") && !refused.1.contains(fixture.a.canary))
            #expect(try await Page.page(client, "/dashboards/learning/panels/course_enrollments.csv?course=Canary+course", cookie: viewerA).0 == .forbidden)
            #expect(!(try await Page.page(client, "/dashboards/learning", cookie: viewerA).1.contains("/dashboards/learning/enrollments")))

            // An admin's dashboard links each course to its learners.
            let dashboard = try await Page.page(client, "/dashboards/learning", cookie: adminA).1
            #expect(dashboard.contains("href=\"/dashboards/learning/enrollments?days=30&amp;course=Canary%20course\""))

            // Each admin sees their own tenant's learners of the course, and nothing of the other's.
            for (cookie, mine, theirs) in [(adminA, fixture.a, fixture.b), (adminB, fixture.b, fixture.a)] {
                let (status, body, _) = try await Page.page(client, Self.drillDown, cookie: cookie)
                #expect(status == .ok)
                #expect(body.contains("<h1>Canary course</h1>") && body.contains("cohort-\(mine.canary)") && body.contains("canary-\(mine.canary)@fixture.example"))
                #expect(!body.contains(theirs.canary) && !body.contains(mine.tenant.id.description) && !body.contains("<script"))
            }
            let csv = try await Page.page(client, "/dashboards/learning/panels/course_enrollments.csv?course=Canary+course", cookie: adminA)
            #expect(csv.0 == .ok && csv.1.hasPrefix("learner,actor,enrolled_at,completed_at,days_to_complete,cohort\r\n"))
            #expect(csv.1.contains("cohort-\(fixture.a.canary)") && !csv.1.contains(fixture.b.canary))

            // No course, or a tenant named in the query: 400, and nothing of either tenant.
            for uri in ["/dashboards/learning/enrollments", Self.drillDown + "&tenant_id=\(fixture.b.tenant.id)", Self.drillDown + "&org=x"] {
                let (status, body, _) = try await Page.page(client, uri, cookie: adminA)
                #expect(status == .badRequest, "\(uri)")
                #expect(!body.contains(fixture.b.canary) && !body.contains(fixture.a.canary))
            }
        }
    }

    @Test func panelDownloadsAreTheSessionsOwnReportsAsCSV() async throws {
        try await Page().withApp { client, fixture, _ in
            let (viewerA, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer))
            let page = try await Page.page(client, "/dashboards/learning?days=7", cookie: viewerA).1
            for report in ["active_learners", "completion_rate_by_course", "time_to_complete", "cohort_comparison"] {
                #expect(page.contains("href=\"/dashboards/learning/panels/\(report).csv?days=7\""), "\(report) link")
            }

            let (status, body, headers) = try await Page.page(client, "/dashboards/learning/panels/cohort_comparison.csv?days=7", cookie: viewerA)
            #expect(status == .ok && headers[.contentType]?.hasPrefix("text/csv") == true)
            #expect(headers[.contentDisposition] == "attachment; filename=\"cohort_comparison.csv\"")
            #expect(body.hasPrefix("cohort,enrolled,completed,completion_rate,change_vs_previous,rank\r\n"))
            #expect(body.contains("cohort-\(fixture.a.canary)") && !body.contains(fixture.b.canary))
            let courses = try await Page.page(client, "/dashboards/learning/panels/completion_rate_by_course.csv?days=7&course=Canary+course", cookie: viewerA)
            #expect(courses.1 == "course,enrolled,completed,completion_rate\r\nCanary course,1,1,1.0\r\n")

            // Only the panels' reports; no session, another surface or a named tenant are refused.
            for (uri, expected) in [("/dashboards/learning/panels/tenant_overview.csv", HTTPResponse.Status.notFound),
                                    ("/dashboards/learning/panels/feature_adoption.csv", .notFound),
                                    ("/dashboards/learning/panels/active_learners.csv?tenant_id=\(fixture.b.tenant.id)", .badRequest),
                                    ("/dashboards/learning/panels/active_learners.csv?days=13", .badRequest)] {
                #expect(try await Page.page(client, uri, cookie: viewerA).0 == expected, "\(uri)")
            }
            #expect(try await Page.page(client, "/dashboards/learning/panels/active_learners.csv", cookie: nil).0 == .unauthorized)
            let (platform, _) = try await Page.embed(client, "platform", token: try await TestTokens.platform())
            #expect(try await Page.page(client, "/dashboards/learning/panels/active_learners.csv", cookie: platform).0 == .forbidden)

            // A preview has no downloads: its operator has no tenant session to download with.
            let preview = try await Page.page(client, "/platform/preview/\(fixture.a.tenant.slug)", cookie: platform).1
            #expect(preview.contains("id=\"active-learners\"") && !preview.contains("/dashboards/learning/panels/"))
        }
    }
}
