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
/// - `GET /platform/analytics` and `GET /platform/preview/{slug}`: platform sessions only; a tenant session
///   gets an audited 403, and every preview is audited.
///
/// Every page runs the catalog's reports through the one report helper; nothing here writes SQL.
struct DashboardRoutes {
    let runner: ReportRunner
    let verifier: TokenVerifier
    let directory: TenantDirectory
    let audit: AuditLog
    let sessions: DashboardSessionSigner
    let embedding: EmbeddingPolicy
    let savedViews: SavedViewStore

    static let cookieName = SessionAuthenticator.cookieName

    /// The paths that answer with HTML pages (errors included), for ``PageMiddleware``.
    static func isPage(_ path: String) -> Bool {
        ["/embed/", "/dashboards/", "/platform/analytics", "/platform/preview/", "/shared/"].contains { path.hasPrefix($0) }
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("embed/:dashboard") { request, context in try await embed(request, context: context) }

        let authenticator = SessionAuthenticator(signer: sessions, status: verifier.status)
        let tenant = router.tenantRoutes(authenticator: authenticator, purpose: "tenant dashboards", audit: audit)
        tenant.get("dashboards/learning") { request, context in
            let views = try await savedViews.views(in: context.scope, logger: context.logger)
            let isAdmin = context.user.role == .admin
            let links = isAdmin ? try await savedViews.links(in: context.scope, logger: context.logger) : []
            let formToken = context.dashboardSession.map(sessions.formToken(for:)) ?? ""
            let filters = try Self.filters(request)
            return try await tenantDashboard(
                in: context.scope, filters: filters, banner: nil, action: "/dashboards/learning", logger: context.logger,
                savedViews: DashboardPages.savedViews(views, links: links, filters: filters, isAdmin: isAdmin, formToken: formToken))
        }

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
                in: ScopePolicy.preview(by: context.scope, of: tenant.id), filters: try Self.filters(request),
                banner: "Preview: tenant scope \(tenant.name) (\(tenant.slug)) — what its users see; opened by platform operator \(name), audited",
                action: "/platform/preview/\(slug)", logger: context.logger)
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
        let verified = try await verifier.verified(token, for: surface, logger: context.logger)
        let session = DashboardSession(principal: verified.principal, expires: verified.expires, jti: verified.jti)
        let expires = verified.expires
        var headers = HTTPFields()
        headers[.location] = destination
        headers[.setCookie] = embedding.cookie(name: Self.cookieName, value: sessions.seal(session), expires: expires, request: request)
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: - Pages

    func tenantDashboard(
        in tenant: TenantScope, filters: DashboardPages.Filters, banner: String?, action: String?, logger: Logger, savedViews: String = ""
    ) async throws -> Response {
        let scope = DataScope.tenant(tenant)
        let enrollment = filters.enrollmentParameters()
        let data = DashboardPages.TenantDashboard(
            activeLearners: try await runner.run("active_learners", in: scope, parameters: [("days", "\(filters.days)")], logger: logger),
            completion: try await runner.run("completion_rate_by_course", in: scope, parameters: enrollment, logger: logger),
            timeToComplete: try await runner.run("time_to_complete", in: scope, parameters: enrollment, logger: logger),
            cohorts: try await runner.run("cohort_comparison", in: scope, parameters: enrollment, logger: logger)
        )
        // The course choices: every course of the period, whatever the current course filter. Without a
        // filter that is the completion report already run above.
        let unfiltered = filters.course == nil
            ? data.completion
            : try await runner.run("completion_rate_by_course", in: scope,
                                   parameters: DashboardPages.Filters(days: filters.days).enrollmentParameters(), logger: logger)
        let courses = unfiltered.rows.map { DashboardPages.text($0[0]) }
        return html(DashboardPages.tenantDashboard(data, filters: filters, courses: courses, action: action, banner: banner, savedViews: savedViews))
    }

    func platformPage(request: Request, context: PlatformRequestContext) async throws -> Response {
        let filters = try Self.filters(request)
        let days = [("days", "\(filters.days)")]
        let scope = DataScope.platform(context.scope)
        let growth = try await runner.run("active_learners", in: scope, parameters: days, logger: context.logger)
        let adoption = try await runner.run("feature_adoption", in: scope, parameters: days, logger: context.logger)
        let tenants = try await runner.run("tenant_overview", in: scope, parameters: days, logger: context.logger)
        return html(DashboardPages.platformPage(growth: growth, adoption: adoption, tenants: tenants,
                                                operatorName: context.person.name, days: filters.days))
    }

    static func filters(_ request: Request) throws -> DashboardPages.Filters {
        try filters(QueryParameters.pairs(of: request))
    }

    static func filters(_ parameters: [(String, String)]) throws -> DashboardPages.Filters {
        var filters = DashboardPages.Filters()
        for (name, value) in parameters {
            switch name {
            case "days":
                guard let days = Int(value), DashboardPages.periods.contains(days) else {
                    throw TenantScopeError.invalidInput("days must be one of \(DashboardPages.periods.map(String.init).joined(separator: ", "))")
                }
                filters.days = days
            case "course":
                guard value.count <= 500 else { throw TenantScopeError.invalidInput("course is too long") }
                filters.course = value.isEmpty ? nil : value
            default:
                throw TenantScopeError.invalidInput("unknown filter '\(name)'")
            }
        }
        return filters
    }

    func html(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }
}
