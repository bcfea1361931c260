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
        let forms = router.tenantRoutes(authenticator: SessionAuthenticator(signer: dashboards.sessions, status: dashboards.verifier.status), purpose: "tenant dashboards", audit: audit, limits: dashboards.limits, work: .api)
        forms.post("dashboards/learning/views") { request, context in
            let form = try await admin(request, context)
            let filters = try form.filters()
            _ = try await store.save(in: context.scope, name: form.name ?? "", days: filters.days, course: filters.course, logger: context.logger)
            return Self.redirect(filters.url("/dashboards/learning"))
        }
        forms.post("dashboards/learning/views/:id/share") { request, context in
            _ = try await admin(request, context)
            guard let view = UUIDText.parse(try context.parameters.require("id")),
                  let (link, token) = try await store.share(in: context.scope, view: view, lifetime: Self.linkLifetime, logger: context.logger)
            else { throw TenantScopeError.notFound("no such saved view") }
            try await audit.append(.init(principal: .tenantUser(context.user), scopeTenant: context.scope.tenant, action: "shared_link_created",
                                         parameters: ["link": link.uuidString.lowercased()], outcome: "ok"), logger: context.logger)
            let model = SharedLinkPage.Model(path: "/shared/\(token)", lifetimeDays: Int(Self.linkLifetime.components.seconds / 86_400))
            return dashboards.html(SharedLinkPage.View(model: model).render())
        }
        forms.post("dashboards/links/:id/revoke") { request, context in
            _ = try await admin(request, context)
            guard let link = UUIDText.parse(try context.parameters.require("id")),
                  try await store.revoke(in: context.scope, link: link, logger: context.logger)
            else { throw TenantScopeError.notFound("no such active link") }
            try await audit.append(.init(principal: .tenantUser(context.user), scopeTenant: context.scope.tenant, action: "shared_link_revoked",
                                         parameters: ["link": link.uuidString.lowercased()], outcome: "ok"), logger: context.logger)
            return Self.redirect("/dashboards/learning")
        }
        router.get("shared/:token") { request, context in
            guard let (scope, view) = try await store.resolve(token: try context.parameters.require("token"), logger: context.logger) else {
                throw TenantScopeError.notFound("this shared link is not valid: it may have expired or been revoked")
            }
            // Always the creating tenant's scope, whatever session (of whichever tenant) the viewer has.
            let page = {
                try await dashboards.tenantDashboard(
                    in: scope, filters: DashboardFilters(days: view.days, course: view.course), today: Date(), logger: context.logger,
                    presentation: .init(banner: "Shared view “\(view.name)”", filterAction: nil))
            }
            // Its reports are the tenant's work, under the tenant's limits like its dashboards': a leaked link fetched in
            // a loop spends the tenant's rate and slots, not the other tenants' connections.
            guard let limits = dashboards.limits else { return try await page() }
            return try await limits.limited(scope.tenant, work: .queries, note: RateLimitNote(), logger: context.logger, page)
        }
    }

    /// The form of a tenant admin's POST, after checking its form token against the session.
    func admin(_ request: Request, _ context: TenantRequestContext) async throws -> DashboardForm {
        guard context.dashboardSession != nil else { throw TenantScopeError.forbidden("saved views belong to tenant sessions") }
        try context.require(.admin, "saving and sharing views needs a tenant admin")
        return try await DashboardForm.read(request, context: context, sessions: dashboards.sessions)
    }

    static func redirect(_ location: String) -> Response {
        var headers = HTTPFields()
        headers[.location] = location
        return Response(status: .seeOther, headers: headers)
    }
}
