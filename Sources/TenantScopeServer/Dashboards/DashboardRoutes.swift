import Foundation
import HTTPTypes
import Hummingbird
import Logging
import TenantScopeCore
import TenantScopePostgres

/// Embedding and the dashboard pages.
///
/// - `GET /embed/learning?token=…` (a tenant token) and `GET /embed/platform?token=…` (a platform token):
///   verify the token, exchange it for an HttpOnly session cookie bound to its tenant, subject and expiry,
///   and redirect to the page without the token in the URL.
/// - `GET /dashboards/learning`: the tenant dashboard for the session's tenant (filters: `days`, `course`).
/// - `GET /dashboards/learning/enrollments?course=…`: a course's learners (tenant admins; the
///   `course_enrollments` report refuses other roles with 403).
/// - With exports configured, ``DashboardExportRoutes`` add the panels' export action and the exports page.
/// - `GET /platform/analytics` and `GET /platform/preview/{slug}`: platform sessions only; a tenant session
///   gets an audited 403, and every preview is audited.
///
/// Every page runs the catalog's reports through the one report helper; nothing here writes SQL. Each
/// page is a model built from the results (`X+Model.swift`) rendered by its view (`X+View.swift`).
struct DashboardRoutes {
    let runner: ReportRunner
    let verifier: TokenVerifier
    let directory: TenantDirectory
    let audit: AuditLog
    let sessions: DashboardSessionSigner
    let embedding: EmbeddingPolicy
    let savedViews: SavedViewStore
    /// Whether the server runs exports (``DashboardExportRoutes`` are registered): only then do the
    /// panels offer "Export CSV" and the dashboard link to its exports page.
    var offersExports = false
    /// The approved custom reports a tenant admin pinned, shown below the four panels.
    var customReports: CustomReportPanels? = nil
    /// Each tenant page runs in one of its tenant's slots.
    var limits: TenantLimitEnforcer? = nil

    static let cookieName = SessionAuthenticator.cookieName

    /// The paths that answer with HTML pages (errors included), for ``PageMiddleware``.
    static func isPage(_ path: String) -> Bool {
        ["/embed/", "/dashboards/", "/platform/analytics", "/platform/preview/", "/shared/"].contains { path.hasPrefix($0) }
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("embed/:dashboard") { request, context in try await embed(request, context: context) }

        let authenticator = SessionAuthenticator(signer: sessions, status: verifier.status)
        let tenant = router.tenantRoutes(authenticator: authenticator, purpose: "tenant dashboards", audit: audit, limits: limits, work: .queries)
        tenant.get("dashboards/learning") { request, context in
            let now = Date()
            let filters = try DashboardFilters(query: QueryParameters.pairs(of: request))
            let isAdmin = context.scope.role == .admin
            let views = try await savedViews.views(in: context.scope, logger: context.logger)
            let links = isAdmin ? try await savedViews.links(in: context.scope, logger: context.logger) : []
            let formToken = context.dashboardSession.map(sessions.formToken(for:)) ?? ""
            let saved = SavedViews.Model(views: views, links: links, filters: filters, isAdmin: isAdmin, formToken: formToken, now: now)
            return try await tenantDashboard(
                in: context.scope, filters: filters, today: now, logger: context.logger,
                presentation: .init(offersDownloads: true, exportFormToken: offersExports ? formToken : nil, offersDrillDown: isAdmin,
                                    savedViews: saved))
        }
        tenant.get("dashboards/learning/enrollments") { request, context in
            try await courseEnrollments(request, context: context)
        }
        PanelDownloadRoute(runner: runner).register(on: tenant)
        customReports?.register(on: tenant)

        let platform = router.platformRoutes(authenticator: authenticator, purpose: "platform pages", audit: audit)
        platform.get("platform/analytics") { request, context in
            try await platformPage(request: request, context: context)
        }
        platform.get("platform/preview/:slug") { request, context in
            let slug = try TenantSlug(try context.parameters.require("slug"))
            guard let tenant = try await directory.find(slug: slug, logger: context.logger) else {
                throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
            }
            try await audit.append(.init(principal: context.principal, scopeTenant: tenant.id, action: "tenant_preview",
                                         parameters: ["slug": slug.rawValue], outcome: "ok"), logger: context.logger)
            let name = context.person.name
            return try await tenantDashboard(
                in: ScopePolicy.preview(by: context.scope, of: tenant.id), filters: try DashboardFilters(query: QueryParameters.pairs(of: request)),
                today: Date(), logger: context.logger,
                presentation: .init(
                    banner: "Preview: tenant scope \(tenant.name) (\(tenant.slug)) — what its users see; opened by platform operator \(name), audited",
                    filterAction: "/platform/preview/\(slug)"))
        }
    }

    // MARK: - Embedding

    func embed(_ request: Request, context: AppRequestContext) async throws -> Response {
        let dashboard = try context.parameters.require("dashboard")
        guard let token = try QueryParameters.pairs(of: request).first(where: { $0.0 == "token" })?.1, !token.isEmpty else {
            throw TenantScopeError.invalidInput("the embed link needs ?token= with a token minted by your platform")
        }
        let surface: Surface
        let destination: String
        switch dashboard {
        case "learning": (surface, destination) = (.tenant, "/dashboards/learning")
        case "platform": (surface, destination) = (.platform, "/platform/analytics")
        default: throw TenantScopeError.notFound("no dashboard named '\(dashboard)'")
        }
        let verified: TokenVerifier.Verified
        do {
            verified = try await verifier.verified(token, for: surface, logger: context.logger)
        } catch let error as AuthenticationError where error == .unknownKey || error == .wrongAudience {
            // A valid token of the other surface is refused as the other surface's routes refuse it, with an audited 403
            // (probe 38: the embed link answered 401 "unknown key id" and left no row).
            guard let principal = try? await verifier.verify(token, logger: context.logger), principal.surface != surface else { throw error }
            do {
                _ = try ScopePolicy.scope(for: principal, on: surface, purpose: surface == .tenant ? "tenant dashboards" : "platform pages")
            } catch {
                try await ScopeMiddleware.record(error, route: "GET /embed/\(dashboard)", audit: audit, logger: context.logger)
                throw TenantScopeError.forbidden(error.description)
            }
            throw error
        }
        let session = DashboardSession(principal: verified.principal, expires: verified.expires, jti: verified.jti)
        let expires = verified.expires
        var headers = HTTPFields()
        headers[.location] = destination
        headers[.setCookie] = embedding.cookie(name: Self.cookieName, value: sessions.seal(session), expires: expires, request: request)
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: - Pages

    /// The tenant dashboard in `tenant`'s scope: the four panels' reports, then model and view.
    func tenantDashboard(
        in tenant: TenantScope, filters: DashboardFilters, today: Date, logger: Logger, presentation: TenantDashboard.Model.Presentation
    ) async throws -> Response {
        let scope = DataScope.tenant(tenant)
        func run(_ panel: DashboardPanel, _ filters: DashboardFilters, extra: [(String, String)] = []) async throws -> ReportResult {
            try await runner.run(panel.report, in: scope, parameters: panel.parameters(filters, today: today) + extra, now: today, logger: logger)
        }
        let completion = try await run(.completionRate, filters)
        // The course choices: every course of the period, whatever the course filter. Without a filter
        // that is the completion report already run.
        let allCourses = filters.course == nil ? completion : try await run(.completionRate, DashboardFilters(days: filters.days))
        var model = try TenantDashboard.Model(
            activeLearners: try await run(.activeLearners, filters),
            completion: completion,
            // One-day buckets: the page groups them by week and takes the median to the day.
            completionTimes: try await run(.timeToComplete, filters, extra: [("bucket_days", "1")]),
            cohorts: try await run(.cohortComparison, filters),
            allCourses: allCourses, filters: filters, today: today, presentation: presentation)
        model.customPanels = try await customReports?.panels(in: tenant, logger: logger) ?? []
        return html(TenantDashboard.View(model: model).render())
    }

    /// A course's learners, in the session's tenant scope; the report itself refuses non-admins.
    func courseEnrollments(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let today = Date()
        let filters = try DashboardFilters(query: QueryParameters.pairs(of: request))
        guard let course = filters.course else { throw TenantScopeError.invalidInput("choose a course: ?course=<its title or IRI>") }
        let result = try await runner.run(DashboardPanel.courseEnrollments.report, in: .tenant(context.scope),
                                          parameters: DashboardPanel.courseEnrollments.parameters(filters, today: today), now: today,
                                          logger: context.logger)
        var model = try CourseEnrollments.Model(result, course: course, filters: filters, today: today)
        if offersExports { model.exportFormToken = context.dashboardSession.map(sessions.formToken(for:)) }
        return html(CourseEnrollments.View(model: model).render())
    }

    func platformPage(request: Request, context: PlatformRequestContext) async throws -> Response {
        let today = Date()
        let filters = try DashboardFilters(query: QueryParameters.pairs(of: request))
        let days = [("days", "\(filters.days)")]
        let scope = DataScope.platform(context.scope)
        let growth = try await runner.run("active_learners", in: scope, parameters: days, now: today, logger: context.logger)
        let adoption = try await runner.run("feature_adoption", in: scope, parameters: days, now: today, logger: context.logger)
        let tenants = try await runner.run("tenant_overview", in: scope, parameters: days, now: today, logger: context.logger)
        let model = try PlatformAnalytics.Model(growth: growth, adoption: adoption, tenants: tenants, operatorName: context.person.name,
                                                days: filters.days, today: today)
        return html(PlatformAnalytics.View(model: model).render())
    }

    func html(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }
}
