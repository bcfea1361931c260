import Foundation
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `GET /dashboards/learning/panels/{report}.csv?days=&course=`: a dashboard panel's report as CSV, in
/// the session's tenant scope, with the parameters the panel runs with (``DashboardPanel``). Only the
/// panels' reports (and the learner drill-down, which the runner keeps to admins) can be downloaded.
///
/// It answers at once, as `/api/v1/reports/{name}` does with `Accept: text/csv`, and stays next to the
/// panels' "Export CSV" action (``DashboardExportRoutes``): a panel's rows are few enough to send now,
/// and servers without exports have only this.
struct PanelDownloadRoute {
    let runner: ReportRunner

    func register(on group: RouterGroup<TenantRequestContext>) {
        group.get("dashboards/learning/panels/{report}.csv") { request, context in
            let name = try context.parameters.require("report")
            guard let panel = DashboardPanel(rawValue: name) else { throw TenantScopeError.notFound("no dashboard panel downloads '\(name)'") }
            let today = Date()
            let filters = try DashboardFilters(query: QueryParameters.pairs(of: request))
            let result = try await runner.run(panel.report, in: .tenant(context.scope), parameters: panel.parameters(filters, today: today),
                                              now: today, logger: context.logger)
            return CSV.response(result, filename: panel.report)
        }
    }
}
