import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The dashboard's "Export CSV" action and its exports page over HTTP against real PostgreSQL: an export
/// is queued as the session's user in the session's tenant with the panel's parameters, only with the
/// session's form token; the page lists the session's own exports (an admin's: the tenant's) and links
/// the finished file; nothing of one tenant's exports reaches another tenant's session.
/// Serialized: each test opens an application with its own pools.
@Suite(.serialized, .database) struct DashboardExportTests {
    typealias Page = DashboardHTTPTests
    typealias Forms = SavedViewTests

    struct Setup: Sendable {
        let client: any TestClientProtocol
        let fixture: TwoTenants
        let handle: TestDatabase
        let worker: ExportWorker

        /// Runs the worker until it finds no job of the fixture's tenants.
        func drain() async throws {
            while try await worker.step(housekeeping: true, among: [fixture.a.tenant.id, fixture.b.tenant.id]) {}
        }

        /// The export jobs of `member`'s tenant, read in its scope.
        func jobs(_ member: TwoTenants.Member) async throws -> [ExportJob] {
            try await handle.database.exportJobs.list(in: member.tenant.id.testScope, logger: TestDatabase.logger)
        }

        func session(_ member: TwoTenants.Member, _ role: TenantUser.Role, _ subject: String) async throws -> String {
            try await Page.embed(client, "learning", token: try await TestTokens.tenant(member.tenant.id, role: role, subject: subject)).cookie
        }

        /// The session's form token, read from its dashboard.
        func formToken(_ cookie: String) async throws -> String {
            Forms.formToken(try await Page.page(client, "/dashboards/learning", cookie: cookie).1)
        }

        func export(_ report: String, cookie: String, form: [(String, String)]) async throws -> (HTTPResponse.Status, String, HTTPFields) {
            try await Forms.post(client, "/dashboards/learning/panels/\(report)/export", cookie: cookie, form: form)
        }
    }

    /// An app with the dashboards and exports (worker off: the tests step it), on the two-tenant fixture.
    func withExports(_ body: @Sendable (Setup) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let root = URL(fileURLWithPath: handle.root).appendingPathComponent("dashboard-exports-\(UUID().uuidString.prefix(8))")
        let store = try FileExportStore(root: root)
        let exports = ExportConfiguration(store: store, partialDirectory: root.appendingPathComponent(".partial"), runsWorker: false)
        try FileManager.default.createDirectory(at: exports.partialDirectory, withIntermediateDirectories: true)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        let catalog = try StandardReports.catalog()
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil, embedding: Page.embedding, exports: exports),
                                   tokens: try await TestTokens.verifier(for: database), catalog: catalog, logger: TestDatabase.logger)
        let worker = ExportWorker(database: handle.database, reader: ExportReader(database: handle.database, reports: ReportRunner(catalog: catalog, database: handle.database)),
                                  store: store, settings: exports.settings, partialDirectory: exports.partialDirectory, logger: TestDatabase.logger)
        try await app.test(.router) { client in
            try await body(Setup(client: client, fixture: fixture, handle: handle, worker: worker))
        }
    }

    /// The parameters `panel` runs with for `filters`, as the job stores them, today and (for a test that
    /// crosses midnight UTC) a moment later.
    static func parameters(_ panel: DashboardPanel, _ filters: DashboardFilters, around day: Date) -> [[String: String]] {
        [day, Date()].map { Dictionary(panel.parameters(filters, today: $0), uniquingKeysWith: { _, last in last }) }
    }

    @Test func anyRoleThatSeesAPanelQueuesItsExportInTheSessionsTenantWithThePanelsParameters() async throws {
        try await withExports { setup in
            let a = setup.fixture.a, b = setup.fixture.b
            let viewer = try await setup.session(a, .viewer, "viewer-a")
            let admin = try await setup.session(a, .admin, "admin-a")

            // Every panel offers the action, with the filters on screen; the header links the exports page.
            let page = try await Page.page(setup.client, "/dashboards/learning?days=7&course=Canary+course", cookie: viewer).1
            for report in ["active_learners", "completion_rate_by_course", "time_to_complete", "cohort_comparison"] {
                #expect(page.contains("action=\"/dashboards/learning/panels/\(report)/export\""), "\(report) form")
            }
            #expect(page.contains("<input type=\"hidden\" name=\"course\" value=\"Canary course\"/>"))
            #expect(page.contains("href=\"/dashboards/exports?days=7&amp;course=Canary%20course\">Exports</a>"))
            let token = Forms.formToken(page)

            let before = Date()
            let filters = DashboardFilters(days: 7, course: "Canary course")
            let queued = try await setup.export("cohort_comparison", cookie: viewer,
                                                form: [("form_token", token), ("days", "7"), ("course", "Canary course")])
            #expect(queued.0 == .seeOther && queued.2[.location] == "/dashboards/exports?days=7&course=Canary%20course", "\(queued.1)")

            let mine = try await setup.jobs(a).filter { $0.requestedBy == "viewer-a" }
            let job = try #require(mine.first)
            #expect(mine.count == 1 && job.tenant == a.tenant.id && job.state == .queued && job.requestedKind == "tenant_user")
            #expect(job.format == .csv && !job.compressed)
            guard case .report(let name, let parameters) = job.source else { Issue.record("not a report export: \(job.source)"); return }
            #expect(name == "cohort_comparison" && Self.parameters(.cohortComparison, filters, around: before).contains(parameters), "\(parameters)")
            #expect(try await setup.jobs(b).allSatisfy { $0.requestedBy != "viewer-a" })

            // The learner drill-down's report stays with admins: a viewer's export is refused and queues nothing.
            let viewerDrillDown = try await setup.export("course_enrollments", cookie: viewer, form: [("form_token", token), ("course", "Canary course")])
            #expect(viewerDrillDown.0 == .forbidden && viewerDrillDown.1.contains("Not allowed"))
            #expect(try await setup.jobs(a).filter { $0.requestedBy == "viewer-a" }.count == 1)
            let drillDownPage = try await Page.page(setup.client, "/dashboards/learning/enrollments?course=Canary+course", cookie: admin).1
            #expect(drillDownPage.contains("action=\"/dashboards/learning/panels/course_enrollments/export\""))
            let adminToken = try await setup.formToken(admin)
            #expect(try await setup.export("course_enrollments", cookie: admin, form: [("form_token", adminToken), ("course", "Canary course")]).0 == .seeOther)
            #expect(try await setup.jobs(a).contains { $0.requestedBy == "admin-a" && $0.source.kind == "report" })

            // Bad input is a clear 4xx, never a job: an unknown panel, a bad period, a tenant in the query.
            for (report, form, query, status) in [
                ("tenant_overview", [("form_token", token)], "", HTTPResponse.Status.notFound),
                ("active_learners", [("form_token", token), ("days", "13")], "", .badRequest),
                ("active_learners", [("form_token", token)], "?tenant_id=\(b.tenant.id)", .badRequest),
                ("active_learners", [("form_token", token), ("tenant", b.tenant.id.description)], "", .badRequest),
            ] {
                let response = try await Forms.post(setup.client, "/dashboards/learning/panels/\(report)/export\(query)", cookie: viewer, form: form)
                #expect(response.0 == status, "\(report)\(query): \(response.1)")
                #expect(!response.1.contains(b.canary))
            }
            #expect(try await setup.jobs(a).filter { $0.requestedBy == "viewer-a" }.count == 1)

            let audit = try await setup.handle.admin.auditTrail.tail(limit: 500, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "export_created" && $0.entry.actor == "viewer-a" && $0.entry.scopeTenant == a.tenant.id
                && $0.entry.parameters["job"] == job.id.uuidString.lowercased() })
        }
    }

    @Test func aMissingForgedOrForeignFormTokenIsRefusedAndQueuesNothing() async throws {
        try await withExports { setup in
            let a = setup.fixture.a, b = setup.fixture.b
            let viewerA = try await setup.session(a, .viewer, "viewer-a")
            let adminB = try await setup.session(b, .admin, "admin-b")
            let tokenA = try await setup.formToken(viewerA)
            let tokenB = try await setup.formToken(adminB)
            let jobsBefore = (try await setup.jobs(a).count, try await setup.jobs(b).count)

            for (cookie, form) in [
                (viewerA, [("days", "30")]),
                (viewerA, [("form_token", ""), ("days", "30")]),
                (viewerA, [("form_token", "forged"), ("days", "30")]),
                (viewerA, [("form_token", tokenB), ("days", "30")]),
                (adminB, [("form_token", tokenA), ("days", "30")]),
            ] {
                let response = try await setup.export("active_learners", cookie: cookie, form: form)
                #expect(response.0 == .forbidden, "\(form): \(response.1)")
            }
            // No session at all: 401, as on every dashboard route.
            #expect(try await Forms.post(setup.client, "/dashboards/learning/panels/active_learners/export", cookie: "", form: [("form_token", tokenA)]).0
                == .unauthorized)
            let jobsAfter = (try await setup.jobs(a).count, try await setup.jobs(b).count)
            #expect(jobsAfter == jobsBefore)
        }
    }

    @Test func theExportsPageListsTheSessionsExportsAndLinksTheFileOnceTheWorkerRanIt() async throws {
        try await withExports { setup in
            let a = setup.fixture.a, b = setup.fixture.b
            let viewer = try await setup.session(a, .viewer, "viewer-a")
            let admin = try await setup.session(a, .admin, "admin-a")
            let adminB = try await setup.session(b, .admin, "admin-b")

            let empty = try await Page.page(setup.client, "/dashboards/exports", cookie: viewer)
            #expect(empty.0 == .ok && empty.1.contains("No exports yet.") && !empty.1.contains("http-equiv=\"refresh\""))
            #expect(empty.2[.contentSecurityPolicy]?.contains("frame-ancestors 'self' https://lms.example.com") == true)

            let viewerToken = try await setup.formToken(viewer)
            #expect(try await setup.export("cohort_comparison", cookie: viewer, form: [("form_token", viewerToken), ("course", "Canary course")]).0 == .seeOther)
            let adminToken = try await setup.formToken(admin)
            #expect(try await setup.export("active_learners", cookie: admin, form: [("form_token", adminToken), ("days", "30")]).0 == .seeOther)

            // Queued: listed with its report, parameters and state; no link yet. The page offers to check
            // again or to reload itself, and reloads only when asked to (`reload=auto`).
            let queued = try await Page.page(setup.client, "/dashboards/exports?course=Canary+course", cookie: viewer)
            #expect(queued.0 == .ok)
            #expect(!queued.1.contains("http-equiv=\"refresh\"") && queued.1.contains("1 export is queued or running."))
            #expect(queued.1.contains("href=\"/dashboards/exports?days=30&amp;course=Canary%20course&amp;reload=auto\">Reload every 5 seconds"))
            let reloading = try await Page.page(setup.client, "/dashboards/exports?course=Canary+course&reload=auto", cookie: viewer).1
            #expect(reloading.contains("<meta http-equiv=\"refresh\" content=\"5\"/>") && reloading.contains(">Stop reloading</a>"))
            #expect(try await Page.page(setup.client, "/dashboards/exports?reload=always", cookie: viewer).0 == .badRequest)
            #expect(try await Page.page(setup.client, "/dashboards/exports?tenant_id=\(b.tenant.id)", cookie: viewer).0 == .badRequest)
            #expect(queued.1.contains("Cohort comparison") && queued.1.contains("course: Canary course") && queued.1.contains("<td>Queued</td>"))
            #expect(queued.1.contains("href=\"/dashboards/learning?days=30&amp;course=Canary%20course\""), "the way back keeps the filters")
            #expect(!queued.1.contains("/exports/download/"))
            // A viewer sees only their own exports: not the admin's, not the fixture's failed one.
            #expect(!queued.1.contains("Active learners") && !queued.1.contains("days: 30") && !queued.1.contains(a.canary))

            // An admin sees the tenant's, with who asked; tenant B's admin sees none of them.
            let adminPage = try await Page.page(setup.client, "/dashboards/exports", cookie: admin).1
            #expect(adminPage.contains("Cohort comparison") && adminPage.contains("Active learners") && adminPage.contains("by viewer-a"))
            #expect(adminPage.contains("export-\(a.canary)"), "the fixture's failed export, with its reason")
            let pageB = try await Page.page(setup.client, "/dashboards/exports", cookie: adminB).1
            #expect(pageB.contains("export-\(b.canary)"))
            #expect(!pageB.contains(a.canary) && !pageB.contains("viewer-a") && !pageB.contains("Cohort comparison") && !pageB.contains(a.tenant.id.description))

            try await setup.drain()

            // Done: the state, the rows, the size and the signed link; the page stops reloading, even when asked to.
            let done = try await Page.page(setup.client, "/dashboards/exports?reload=auto", cookie: viewer).1
            #expect(done.contains("<td>Done</td>") && !done.contains("http-equiv=\"refresh\"") && !done.contains("queued or running"), "\(done)")
            let link = try #require(done.range(of: "href=\"/exports/download/").map { String(done[done.index($0.lowerBound, offsetBy: 6)...].prefix { $0 != "\"" }) })
            // The link downloads the CSV of the panel, in tenant A's scope, without any session.
            let file = try await Page.page(setup.client, link, cookie: nil)
            #expect(file.0 == .ok && file.2[.contentType]?.hasPrefix("text/csv") == true)
            #expect(file.1.hasPrefix("cohort,enrolled,completed,completion_rate,change_vs_previous,rank\r\n"), "\(file.1)")
            #expect(file.1.contains("cohort-\(a.canary)") && !file.1.contains(b.canary))

            // After the run, B still sees nothing of A's exports.
            let afterB = try await Page.page(setup.client, "/dashboards/exports", cookie: adminB).1
            #expect(!afterB.contains(a.canary) && !afterB.contains("viewer-a") && !afterB.contains(link))
        }
    }

    @Test func withoutExportsConfiguredThereIsNoExportActionAndNoExportsPage() async throws {
        try await Page().withApp { client, fixture, _ in
            let (admin, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id, role: .admin))
            let page = try await Page.page(client, "/dashboards/learning", cookie: admin).1
            #expect(page.contains("Download CSV") && !page.contains("Export CSV") && !page.contains("/export\"") && !page.contains("/dashboards/exports"))
            let drillDown = try await Page.page(client, "/dashboards/learning/enrollments?course=Canary+course", cookie: admin).1
            #expect(drillDown.contains("Download CSV") && !drillDown.contains("Export CSV"))
            let token = Forms.formToken(page)
            #expect(try await Forms.post(client, "/dashboards/learning/panels/active_learners/export", cookie: admin, form: [("form_token", token)]).0 == .notFound)
            #expect(try await Page.page(client, "/dashboards/exports", cookie: admin).0 == .notFound)
        }
    }
}
