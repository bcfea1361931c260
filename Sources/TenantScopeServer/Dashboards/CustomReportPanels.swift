import Foundation
import Hummingbird
import Logging
import TenantScopeCore
import TenantScopePostgres

/// The learning dashboard's custom-report panels: the approved reports a tenant admin pinned, each run through
/// the guarded SQL surface (guard, sandbox role, row-level security, audit row, tenant-keyed cache) in the
/// page's tenant scope, for any role of the tenant (an admin approved them).
///
/// - `GET /dashboards/learning/custom/{name}.csv`: a pinned report's rows as CSV, now.
struct CustomReportPanels: Sendable {
    let store: CustomReportStore
    let sql: GuardedSQLService

    /// The pinned reports' panels; a report PostgreSQL or the guard refuses shows its error in its panel.
    func panels(in scope: TenantScope, logger: Logger) async throws -> [CustomReportPanel] {
        var panels: [CustomReportPanel] = []
        for report in try await store.dashboardPanels(in: scope, logger: logger) {
            do {
                panels.append(CustomReportPanel(name: report.name, title: report.title, result: try await run(report, in: scope, logger: logger)))
            } catch let refusal as SQLRefusal {
                panels.append(CustomReportPanel(name: report.name, title: report.title, error: refusal.description))
            } catch let error as SQLExecutionError {
                panels.append(CustomReportPanel(name: report.name, title: report.title, error: error.message))
            }
        }
        return panels
    }

    /// Runs a pinned report for any role of its tenant: an `sql_query` audit row with `via=dashboard`.
    func run(_ report: CustomReportStore.Report, in scope: TenantScope, logger: Logger) async throws -> SQLResult {
        try await sql.run(report.sql, in: scope, surface: "dashboard", report: "custom:\(report.name)", requiresAnalyst: false, logger: logger)
    }

    /// The pinned report named `name` in `scope`, or 404: only what the dashboard shows can be downloaded here.
    func pinned(_ name: String, in scope: TenantScope, logger: Logger) async throws -> CustomReportStore.Report {
        guard let report = try await store.dashboardPanels(in: scope, logger: logger).first(where: { $0.name == name }) else {
            throw TenantScopeError.notFound("no dashboard panel shows a custom report named '\(name.prefix(64))'")
        }
        return report
    }

    func register(on group: RouterGroup<TenantRequestContext>) {
        group.get("dashboards/learning/custom/{name}.csv") { _, context in
            let report = try await pinned(try context.parameters.require("name"), in: context.scope, logger: context.logger)
            do {
                let result = try await run(report, in: context.scope, logger: context.logger)
                var response = try SQLRoutes.response(result, format: .csv, scope: context.scope, sql: report.sql)
                response.headers[.contentDisposition] = "attachment; filename=\"\(report.name).csv\""
                return response
            } catch let refusal as SQLRefusal {
                throw TenantScopeError.invalidInput(refusal.description)
            } catch let error as SQLExecutionError {
                throw TenantScopeError.invalidInput(error.message)
            }
        }
    }
}
