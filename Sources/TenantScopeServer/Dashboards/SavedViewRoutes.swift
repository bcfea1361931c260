import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// Saved views (a dashboard with filters, per tenant) and shared links to them.
///
/// - `POST /dashboards/learning/views` (tenant admin): save the current filters under a name.
/// - `POST /dashboards/learning/views/{id}/share` (tenant admin): a signed link, valid 7 days.
/// - `POST /dashboards/links/{id}/revoke` (tenant admin).
/// - `GET /shared/{token}`: opens the view for the tenant that created the link, whoever opens it.
///
/// Forms carry a token bound to the session; everything runs in the session's tenant scope, so one
/// tenant's ids do nothing in another's.
struct SavedViewRoutes {
    let store: SavedViewStore
    let dashboards: DashboardRoutes
    let audit: AuditLog

    static let linkLifetime: Duration = .seconds(7 * 86_400)

    func register(on router: Router<AppRequestContext>) {
        let pages = router.group().add(middleware: PageMiddleware(embedding: dashboards.embedding))
        let forms = pages.group()
            .add(middleware: TenantParameterGuard())
            .add(middleware: SessionAuthenticator(signer: dashboards.sessions))
        forms.post("dashboards/learning/views") { request, context in
            let (user, fields) = try await admin(request, context)
            var filters = try DashboardRoutes.filters(fields.filter { $0.0 == "days" || $0.0 == "course" })
            filters.course = filters.course.flatMap { $0.isEmpty ? nil : $0 }
            let name = fields.first { $0.0 == "name" }?.1 ?? ""
            _ = try await store.save(tenant: user.tenant, name: name, days: filters.days, course: filters.course, createdBy: user.subject)
            return Self.redirect(DashboardPages.viewURL(days: filters.days, course: filters.course))
        }
        forms.post("dashboards/learning/views/:id/share") { request, context in
            let (user, _) = try await admin(request, context)
            guard let view = UUID(uuidString: try context.parameters.require("id")),
                  let (link, token) = try await store.share(tenant: user.tenant, view: view, createdBy: user.subject, lifetime: Self.linkLifetime)
            else { throw TenantScopeError.notFound("no such saved view") }
            try await audit.append(.init(principal: .tenantUser(user), scopeTenant: user.tenant, action: "shared_link_created",
                                         parameters: ["link": link.uuidString.lowercased()], outcome: "ok"))
            let path = "/shared/\(token)"
            return dashboards.html(DashboardPages.layout(title: "Shared link", body: """
                <p>Anyone with this link sees this saved view of your organization's dashboard for 7 days, until you revoke it:</p>
                <p><input readonly size="90" value="\(Charts.escape(path))" aria-label="Shared link"></p>
                <p><a href="\(Charts.escape(path))">Open the shared view</a> · <a href="/dashboards/learning">Back to the dashboard</a></p>
                """))
        }
        forms.post("dashboards/links/:id/revoke") { request, context in
            let (user, _) = try await admin(request, context)
            guard let link = UUID(uuidString: try context.parameters.require("id")),
                  try await store.revoke(tenant: user.tenant, link: link)
            else { throw TenantScopeError.notFound("no such active link") }
            try await audit.append(.init(principal: .tenantUser(user), scopeTenant: user.tenant, action: "shared_link_revoked",
                                         parameters: ["link": link.uuidString.lowercased()], outcome: "ok"))
            return Self.redirect("/dashboards/learning")
        }
        pages.get("shared/:token") { request, context in
            guard let (tenant, view) = try await store.resolve(token: try context.parameters.require("token")) else {
                throw TenantScopeError.notFound("this shared link is not valid: it may have expired or been revoked")
            }
            // Always the creating tenant's scope, whatever session (of whichever tenant) the viewer has.
            let viewer = TenantUser(subject: "shared-link", tenant: tenant, role: .viewer)
            return try await dashboards.tenantDashboard(
                for: viewer, filters: DashboardPages.Filters(days: view.days, course: view.course),
                banner: "Shared view “\(view.name)”", action: nil)
        }
    }

    /// The tenant admin behind a form post, after checking the form token; and the form fields.
    func admin(_ request: Request, _ context: AppRequestContext) async throws -> (TenantUser, [(String, String)]) {
        guard case .tenantUser(let user) = try context.requirePrincipal(), let session = context.dashboardSession else {
            throw TenantScopeError.forbidden("saved views belong to tenant sessions")
        }
        guard user.role == .admin else { throw TenantScopeError.forbidden("saving and sharing views needs a tenant admin") }
        let body = try await RequestBody.collect(request, limit: 16 * 1024)
        let fields = FormQuery.parameters(String(decoding: body, as: UTF8.self))
        guard fields.first(where: { $0.0 == "form_token" })?.1 == dashboards.sessions.formToken(for: session) else {
            throw TenantScopeError.forbidden("the form has expired; reload the dashboard and try again")
        }
        return (user, fields.filter { $0.0 != "form_token" })
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }
}
