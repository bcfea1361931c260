import Foundation
import HTTPTypes
import Hummingbird
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

    static let cookieName = "ts_session"

    func register(on router: Router<AppRequestContext>) {
        let pages = router.group().add(middleware: PageMiddleware(embedding: embedding))
        pages.group().add(middleware: TenantParameterGuard())
            .get("embed/:dashboard") { request, context in try await embed(request, context: context) }

        let authenticated = pages.group()
            .add(middleware: TenantParameterGuard())
            .add(middleware: SessionAuthenticator(signer: sessions))
        authenticated.get("dashboards/learning") { request, context in
            guard case .tenantUser(let user) = try context.requirePrincipal() else {
                throw TenantScopeError.forbidden("this dashboard belongs to a tenant session; platform operators use the preview")
            }
            let views = try await savedViews.views(tenant: user.tenant)
            let links = user.role == .admin ? try await savedViews.links(tenant: user.tenant) : []
            let formToken = context.dashboardSession.map(sessions.formToken(for:)) ?? ""
            let filters = try Self.filters(request)
            return try await tenantDashboard(
                for: user, filters: filters, banner: nil, action: "/dashboards/learning",
                savedViews: DashboardPages.savedViews(views, links: links, filters: filters, isAdmin: user.role == .admin, formToken: formToken))
        }
        authenticated.get("platform/analytics") { request, context in
            try await platformPage(request: request, principal: try context.requirePrincipal())
        }
        authenticated.get("platform/preview/:slug") { request, context in
            let principal = try context.requirePrincipal()
            let slug = try TenantSlug(try context.parameters.require("slug"))
            guard case .platformAdmin(let name) = principal else {
                if case .tenantUser(let user) = principal {
                    try await audit.append(.init(principal: principal, scopeTenant: user.tenant, action: "platform_scope_refused",
                                                 parameters: ["operation": "tenant_preview"], outcome: "refused"))
                }
                throw TenantScopeError.forbidden("previewing a tenant needs a platform session")
            }
            guard let tenant = try await directory.find(slug: slug) else { throw TenantScopeError.notFound("no tenant with the slug '\(slug)'") }
            try await audit.append(.init(principal: principal, scopeTenant: tenant.id, action: "tenant_preview",
                                         parameters: ["slug": slug.rawValue], outcome: "ok"))
            let viewer = TenantUser(subject: "preview:\(name)", tenant: tenant.id, role: .viewer)
            return try await tenantDashboard(
                for: viewer, filters: try Self.filters(request),
                banner: "Preview: tenant scope \(tenant.name) (\(tenant.slug)) — what its users see; opened by platform operator \(name), audited",
                action: "/platform/preview/\(slug)")
        }
    }

    // MARK: - Embedding

    func embed(_ request: Request, context: AppRequestContext) async throws -> Response {
        let dashboard = try context.parameters.require("dashboard")
        guard let token = request.uri.queryParameters["token"].map(String.init), !token.isEmpty else {
            throw TenantScopeError.invalidInput("the embed link needs ?token= with a token minted by your platform")
        }
        let surface: TokenVerifier.Surface
        let destination: String
        switch dashboard {
        case "learning": (surface, destination) = (.tenant, "/dashboards/learning")
        case "platform": (surface, destination) = (.platform, "/platform/analytics")
        default: throw TenantScopeError.notFound("no dashboard named '\(dashboard)'")
        }
        let (principal, expires) = try await verifier.verifiedSession(token, for: surface)
        let session = DashboardSession(principal: principal, expires: expires)
        var headers = HTTPFields()
        headers[.location] = destination
        headers[.setCookie] = embedding.cookie(name: Self.cookieName, value: sessions.seal(session), expires: expires, request: request)
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    // MARK: - Pages

    func tenantDashboard(
        for user: TenantUser, filters: DashboardPages.Filters, banner: String?, action: String?, savedViews: String = ""
    ) async throws -> Response {
        let principal = Principal.tenantUser(user)
        let enrollment = filters.enrollmentParameters()
        let data = DashboardPages.TenantDashboard(
            activeLearners: try await runner.run(principal, report: "active_learners", surface: .tenant, parameters: [("days", "\(filters.days)")]),
            completion: try await runner.run(principal, report: "completion_rate_by_course", surface: .tenant, parameters: enrollment),
            timeToComplete: try await runner.run(principal, report: "time_to_complete", surface: .tenant, parameters: enrollment),
            cohorts: try await runner.run(principal, report: "cohort_comparison", surface: .tenant, parameters: enrollment)
        )
        // The course choices: every course of the period, whatever the current course filter. Without a
        // filter that is the completion report already run above.
        let unfiltered = filters.course == nil
            ? data.completion
            : try await runner.run(principal, report: "completion_rate_by_course", surface: .tenant,
                                   parameters: DashboardPages.Filters(days: filters.days).enrollmentParameters())
        let courses = unfiltered.rows.map { DashboardPages.text($0[0]) }
        return html(DashboardPages.tenantDashboard(data, filters: filters, courses: courses, action: action, banner: banner, savedViews: savedViews))
    }

    func platformPage(request: Request, principal: Principal) async throws -> Response {
        let filters = try Self.filters(request)
        let days = [("days", "\(filters.days)")]
        // A tenant principal is refused (and audited) by the report helper itself.
        let growth = try await runner.run(principal, report: "active_learners", surface: .platform, parameters: days)
        let adoption = try await runner.run(principal, report: "feature_adoption", surface: .platform, parameters: days)
        let tenants = try await runner.run(principal, report: "tenant_overview", surface: .platform, parameters: days)
        return html(DashboardPages.platformPage(growth: growth, adoption: adoption, tenants: tenants,
                                                operatorName: principal.auditName, days: filters.days))
    }

    static func filters(_ request: Request) throws -> DashboardPages.Filters {
        try filters(FormQuery.parameters(request.uri.query))
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

/// Where dashboards may be framed, and how session cookies are set.
public struct EmbeddingPolicy: Sendable {
    /// Origins allowed to frame the dashboards (`Content-Security-Policy: frame-ancestors`).
    public var allowedOrigins: [String]
    /// Set cookies `Secure; SameSite=None` (needed for cross-site iframes) even without `X-Forwarded-Proto: https`.
    public var alwaysSecure: Bool

    public init(allowedOrigins: [String] = [], alwaysSecure: Bool = false) {
        self.allowedOrigins = allowedOrigins
        self.alwaysSecure = alwaysSecure
    }

    var contentSecurityPolicy: String {
        let ancestors = (["'self'"] + allowedOrigins).joined(separator: " ")
        return "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors \(ancestors)"
    }

    func isSecure(_ request: Request) -> Bool {
        alwaysSecure || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    func cookie(name: String, value: String, expires: Date, request: Request) -> String {
        let maxAge = max(0, Int(expires.timeIntervalSinceNow))
        let attributes = isSecure(request) ? "Secure; SameSite=None" : "SameSite=Lax"
        return "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; \(attributes)"
    }
}

/// Security headers on every page, and errors as small HTML pages instead of JSON.
struct PageMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let embedding: EmbeddingPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let json = try ErrorMiddleware<Context>.response(for: error, request: request, context: context)
            let message = switch error {
            case let error as TenantScopeError: error.message
            case let error as AuthenticationError: error.reason
            default: json.status == .internalServerError ? "internal error" : "the request could not be served"
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            let title = json.status == .unauthorized ? "Sign-in needed" : json.status == .forbidden ? "Not allowed" : "Cannot show this page"
            response = Response(status: json.status, headers: headers, body: .init(byteBuffer: .init(string: DashboardPages.message(title: title, text: message))))
        }
        response.headers[.contentSecurityPolicy] = embedding.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}

/// Reads the dashboard session cookie into the principal; no valid session is a 401.
struct SessionAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext
    let signer: DashboardSessionSigner

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let cookies = request.headers[values: .cookie].flatMap { $0.split(separator: ";") }
        let value = cookies.lazy.map { $0.trimmingCharacters(in: .whitespaces) }
            .first { $0.hasPrefix(DashboardRoutes.cookieName + "=") }
            .map { String($0.dropFirst(DashboardRoutes.cookieName.count + 1)) }
        guard let value, let session = signer.open(value), let principal = session.principal else {
            throw AuthenticationError("no dashboard session: open the dashboard through your platform's embed link")
        }
        var context = context
        context.principal = principal
        context.dashboardSession = session
        return try await next(request, context)
    }
}
