import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `/api/v1/custom-reports`: a tenant admin saves a guarded SQL query as a report (draft), previews it — the
/// preview shows the scope it runs in and the SQL exactly as PostgreSQL will execute it — and approves it;
/// then every user of that tenant (viewers too) can list and run it, and an admin may pin it to the learning
/// dashboard as a panel (`PUT /api/v1/custom-reports/{name}/dashboard-panel`). Running an approved report goes
/// through the same guard, sandbox and audit as `/api/v1/sql`; `?debug=true` on a run or a preview (tenant
/// admins) adds PostgreSQL's plan (``SQLDebug``).
struct CustomReportRoutes {
    let store: CustomReportStore
    let sql: GuardedSQLService
    let authenticator: BearerAuthenticator
    let audit: AuditLog
    var limits: TenantLimitEnforcer? = nil

    struct Item: Encodable {
        var name: String
        var title: String
        var state: String
        /// Left out of the platform's listing (``PlatformTenantRoutes``): it may hold the tenant's values.
        var sql: String?
        var sql_sha256: String
        var created_by: String
        var approved_by: String?
        var dashboard_panel: Bool

        init(_ report: CustomReportStore.Report, includesSQL: Bool = true) {
            name = report.name
            title = report.title
            state = report.state.rawValue
            sql = includesSQL ? report.sql : nil
            sql_sha256 = report.sqlSHA256
            created_by = report.createdBy
            approved_by = report.approvedBy
            dashboard_panel = report.dashboardPanel
        }
    }

    struct List: ResponseEncodable {
        var reports: [Item]
    }

    struct Preview: Encodable {
        var report: Item
        var scope: SQLDebug.Scope
        var executed_sql: String
        var result: SQLResponse
        /// With `?debug=true`: PostgreSQL's plan of the executed text.
        var plan: [String]?
    }

    func register(on router: Router<AppRequestContext>) {
        let group = router.tenantRoutes("api/v1/custom-reports", authenticator: authenticator, purpose: "custom reports", audit: audit,
                                       limits: limits, work: .queries)
        group.get { request, context in
            try QueryParameters.requireNone(in: request)
            let all = try await store.reports(in: context.scope, logger: context.logger)
            let visible = context.scope.role == .admin ? all : all.filter { $0.state == .approved }
            return List(reports: visible.map { Item($0) })
        }
        group.post { request, context in
            try context.require(.admin, "saving a custom report needs a tenant admin")
            try QueryParameters.requireNone(in: request)
            let body = try await RequestBody.collect(request, limit: SQLRoutes.maximumBodyBytes)
            guard let members = try JSONParser.requestBody(body, named: "the body").objectValue,
                  let name = members["name"]?.stringValue, let title = members["title"]?.stringValue, let text = members["sql"]?.stringValue
            else { throw TenantScopeError.invalidInput("the body must be {\"name\": \"...\", \"title\": \"...\", \"sql\": \"...\"}") }
            if let unknown = members.keys.first(where: { !["name", "title", "sql"].contains($0) }) {
                throw TenantScopeError.invalidInput("unknown field '\(unknown.prefix(64))'")
            }
            do {
                _ = try sql.executedText(text)
            } catch let refusal as SQLRefusal {
                // Refused text is on record as a run's would be (`sql_query`, outcome `refused`).
                try await audit.append(.init(scope: .tenant(context.scope), action: "custom_report_saved", report: "custom:\(name.prefix(64))",
                                             parameters: ["sql_sha256": SQLGuard.sha256(text), "refused": refusal.node], outcome: "refused"),
                                       logger: context.logger)
                return try SQLErrorBody(error: refusal.description, node: refusal.node, position: refusal.position).response()
            }
            let report = try await store.saveDraft(in: context.scope, name: name, title: title, sql: text, logger: context.logger)
            try await audit.append(.init(scope: .tenant(context.scope), action: "custom_report_saved", report: "custom:\(name)",
                                         parameters: ["sql_sha256": report.sqlSHA256], outcome: "draft"), logger: context.logger)
            return try Self.json(Item(report), status: .created)
        }
        group.post(":name/preview") { request, context in
            if context.scope.role != .admin {
                try await sql.refuse(in: context.scope, surface: "custom-report-preview", report: "custom:\(try context.parameters.require("name").prefix(64))",
                                     mode: "preview", message: "previewing a custom report needs a tenant admin", logger: context.logger)
            }
            try QueryParameters.require(only: ["debug"], in: request)
            let debug = try SQLDebug.requested(request)
            let report = try await existing(context)
            do {
                let executed = try sql.executedText(report.sql)
                let result = try await sql.run(report.sql, in: context.scope, surface: "custom-report-preview", report: "custom:\(report.name)",
                                               logger: context.logger)
                guard try await store.markPreviewed(in: context.scope, name: report.name, sha256: report.sqlSHA256, logger: context.logger)
                    || report.state != .draft
                else { throw TenantScopeError.conflict("the report changed during the preview; preview it again") }
                var previewed = report
                if previewed.state == .draft { previewed.state = .previewed }
                let plan = debug ? try await sql.explain(report.sql, in: context.scope, logger: context.logger) : nil
                return try Self.json(Preview(report: Item(previewed), scope: SQLDebug.Scope(context.scope, limits: sql.limits),
                                             executed_sql: executed, result: SQLResponse(result, scope: context.scope, sql: report.sql),
                                             plan: plan), status: .ok)
            } catch let refusal as SQLRefusal {
                return try SQLErrorBody(error: refusal.description, node: refusal.node, position: refusal.position).response()
            } catch let error as SQLExecutionError {
                return try SQLErrorBody(error: error.message, node: nil, position: error.position).response()
            }
        }
        group.post(":name/approve") { request, context in
            try context.require(.admin, "approving a custom report needs a tenant admin")
            try QueryParameters.requireNone(in: request)
            let report = try await existing(context)
            guard report.state != .approved else {
                throw TenantScopeError.conflict("the custom report '\(report.name)' is already approved")
            }
            guard try await store.approve(in: context.scope, name: report.name, logger: context.logger) else {
                throw TenantScopeError.conflict("only a previewed report can be approved: preview its current SQL first")
            }
            try await audit.append(.init(scope: .tenant(context.scope), action: "custom_report_approved", report: "custom:\(report.name)",
                                         parameters: ["sql_sha256": report.sqlSHA256], outcome: "approved"), logger: context.logger)
            var approved = report
            approved.state = .approved
            approved.approvedBy = context.scope.actor
            return try Self.json(Item(approved), status: .ok)
        }
        // `{"shown": true}` pins an approved report to the tenant's learning dashboard as a panel; false takes it off.
        group.put(":name/dashboard-panel") { request, context in
            try context.require(.admin, "choosing the dashboard's panels needs a tenant admin")
            try QueryParameters.requireNone(in: request)
            let body = try await RequestBody.collect(request, limit: 1024)
            guard let members = try JSONParser.requestBody(body, named: "the body").objectValue, members.count == 1,
                  let shown = members["shown"]?.boolValue
            else { throw TenantScopeError.invalidInput("the body must be {\"shown\": true} or {\"shown\": false}") }
            var report = try await existing(context)
            guard try await store.setDashboardPanel(in: context.scope, name: report.name, shown: shown, logger: context.logger) else {
                throw TenantScopeError.conflict("only an approved report can be pinned to the dashboard: preview and approve it first")
            }
            try await audit.append(.init(scope: .tenant(context.scope), action: "custom_report_panel", report: "custom:\(report.name)",
                                         parameters: ["shown": "\(shown)"], outcome: "ok"), logger: context.logger)
            report.dashboardPanel = shown
            return try Self.json(Item(report), status: .ok)
        }
        group.get(":name") { request, context in
            try QueryParameters.require(only: ["debug"], in: request)
            let debug = try SQLDebug.requested(request)
            let csv = ReportRoutes.wantsCSV(request)
            if debug {
                if context.scope.role != .admin {
                    try await sql.refuse(in: context.scope, surface: "custom-report", report: "custom:\(try context.parameters.require("name").prefix(64))",
                                         mode: "debug", message: "the debug mode is for tenant admins", logger: context.logger)
                }
                if csv { throw TenantScopeError.invalidInput("the debug mode answers in JSON, not CSV") }
            }
            let report = try await existing(context)
            guard report.state == .approved else {
                throw TenantScopeError.conflict("the custom report '\(report.name)' is not approved yet")
            }
            do {
                let result = try await sql.run(report.sql, in: context.scope, surface: "custom-report", report: "custom:\(report.name)",
                                               requiresAnalyst: false, logger: context.logger)
                let plan = debug ? try await SQLDebug.make(report.sql, in: context.scope, service: sql, logger: context.logger) : nil
                return try SQLRoutes.response(result, format: csv ? .csv : .json, scope: context.scope, sql: report.sql, debug: plan)
            } catch let refusal as SQLRefusal {
                return try SQLErrorBody(error: refusal.description, node: refusal.node, position: refusal.position).response()
            } catch let error as SQLExecutionError {
                return try SQLErrorBody(error: error.message, node: nil, position: error.position).response()
            }
        }
    }

    /// The report named in the path, in the caller's tenant: a non-admin sees approved ones only.
    func existing(_ context: TenantRequestContext) async throws -> CustomReportStore.Report {
        let name = try context.parameters.require("name")
        guard let report = try await store.report(in: context.scope, named: name, logger: context.logger),
              context.scope.role == .admin || report.state == .approved
        else { throw TenantScopeError.notFound("no custom report named '\(name.prefix(64))'") }
        return report
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status) throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(bytes: try JSONEncoder().encode(value))))
    }
}
