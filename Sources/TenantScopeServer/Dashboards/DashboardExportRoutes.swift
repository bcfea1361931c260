import Foundation
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// The dashboard's export surface, registered only when the server runs exports:
///
/// - `POST /dashboards/learning/panels/{report}/export` (form: `form_token`, `days`, `course`): queues the
///   panel's report as a CSV export job with the parameters the panel runs with (``DashboardPanel``), as
///   the session's user in the session's tenant, then sends 303 to the exports page. Any role that sees
///   the panel may export it; the report's own role rule still holds (the learner drill-down is for
///   tenant admins, 403 for others).
/// - `GET /dashboards/exports?days=&course=&reload=auto`: the session user's exports (a tenant admin
///   sees the tenant's) with a download link for each finished one; the filters only make the way back,
///   and `reload=auto` (the user's choice) reloads the page every few seconds while jobs run.
///
/// Both go through ``ExportService``, as the export API does: the same validation, job store and audit.
struct DashboardExportRoutes {
    let service: ExportService
    let dashboards: DashboardRoutes
    let audit: AuditLog
    /// How long finished files are kept, which the page says.
    let retention: Duration

    func register(on router: Router<AppRequestContext>) {
        let tenant = router.tenantRoutes(authenticator: SessionAuthenticator(signer: dashboards.sessions, status: dashboards.verifier.status),
                                         purpose: "tenant dashboards", audit: audit, limits: dashboards.limits, work: .api)
        tenant.post("dashboards/learning/panels/{report}/export") { request, context in
            let name = try context.parameters.require("report")
            guard let panel = DashboardPanel(rawValue: name) else { throw TenantScopeError.notFound("no dashboard panel exports '\(name)'") }
            let form = try await DashboardForm.read(request, context: context, sessions: dashboards.sessions)
            let filters = try form.filters()
            let parameters = Dictionary(panel.parameters(filters, today: Date()), uniquingKeysWith: { _, last in last })
            _ = try await service.create(report: panel.report, parameters: parameters, format: .csv, by: .tenantUser(context.user),
                                         in: context.scope, logger: context.logger)
            return SavedViewRoutes.redirect(filters.url("/dashboards/exports"))
        }
        // A pinned custom report's rows as a CSV export job (the approved text of now), then the exports page.
        tenant.post("dashboards/learning/custom/{name}/export") { request, context in
            guard let panels = dashboards.customReports else { throw TenantScopeError.notFound("no custom report panels here") }
            let report = try await panels.pinned(try context.parameters.require("name"), in: context.scope, logger: context.logger)
            let form = try await DashboardForm.read(request, context: context, sessions: dashboards.sessions)
            let filters = try form.filters()
            _ = try await service.create(ExportRequest(source: .customReport(name: report.name, sqlSHA256: nil), format: .csv, compressed: false),
                                         by: .tenantUser(context.user), in: context.scope, logger: context.logger)
            return SavedViewRoutes.redirect(filters.url("/dashboards/exports"))
        }
        tenant.get("dashboards/exports") { request, context in
            let query = try QueryParameters.pairs(of: request)
            // `reload=auto`: the user asked the page to reload itself while jobs run (never the default).
            let reload = query.filter { $0.0 == "reload" }
            guard reload.allSatisfy({ $0.1 == "auto" }) else { throw TenantScopeError.invalidInput("reload must be 'auto'") }
            let filters = try DashboardFilters(query: query.filter { $0.0 != "reload" })
            let actor = ExportService.Actor.tenantUser(context.user)
            let exports = try await service.list(for: actor, in: context.scope, logger: context.logger)
            let model = DashboardExports.Model(exports, catalog: service.catalog, seesAllExports: context.user.role == .admin, filters: filters,
                                               retentionDays: Int(retention.components.seconds / 86_400), autoReload: !reload.isEmpty)
            return dashboards.html(DashboardExports.View(model: model).render())
        }
    }
}
