import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `/api/v1/reports` (tenant tokens) and `/api/v1/platform/reports` (platform tokens).
///
/// Handlers only translate HTTP to the report helper and back: they never build SQL and never read a
/// tenant from the request; the scope is the context's, decided by ``ScopePolicy``.
struct ReportRoutes {
    let runner: ReportRunner
    let authenticator: BearerAuthenticator
    let audit: AuditLog
    var limits: TenantLimitEnforcer? = nil

    func register(on router: Router<AppRequestContext>) {
        let tenant = router.tenantRoutes("api/v1/reports", authenticator: authenticator, purpose: "tenant reports", audit: audit,
                                         limits: limits, work: .queries)
        tenant.get { request, context in
            try QueryParameters.requireNone(in: request)
            return try ReportList(runner.list(on: .tenant, role: context.scope.role), surface: .tenant).response(from: request, context: context)
        }
        tenant.get(":name") { request, context in
            try await run(request, name: try context.parameters.require("name"), scope: .tenant(context.scope), context: context)
        }

        let platform = router.platformRoutes("api/v1/platform/reports", authenticator: authenticator, purpose: "platform reports", audit: audit)
        platform.get { request, context in
            try QueryParameters.requireNone(in: request)
            return try ReportList(runner.list(on: .platform), surface: .platform).response(from: request, context: context)
        }
        platform.get(":name") { request, context in
            try await run(request, name: try context.parameters.require("name"), scope: .platform(context.scope), context: context)
        }
    }

    private func run(_ request: Request, name: String, scope: DataScope, context: some RequestContext) async throws -> Response {
        let parameters = try QueryParameters.pairs(of: request)
        let result = try await runner.run(name, in: scope, parameters: parameters, logger: context.logger)
        var response = Self.wantsCSV(request) ? CSV.response(result, filename: name)
            : ReportResponse(result).response
        response.headers[FreshnessBody.headerName] = result.freshness.headerValue
        if let missing = result.clusters?.missing, !missing.isEmpty {
            // CSV has no room for it in the body: a platform answer missing a cluster says so in a header too.
            response.headers[Self.missingClustersHeader] = missing.map(\.cluster.rawValue).joined(separator: ", ")
        }
        return response
    }

    static let missingClustersHeader = HTTPField.Name("TenantScope-Missing-Clusters")!

    static func wantsCSV(_ request: Request) -> Bool {
        AcceptedFormat.prefersCSV(request.headers[.accept])
    }
}

/// The JSON shape of the catalog as one caller sees it.
struct ReportList: ResponseEncodable {
    struct Parameter: Encodable {
        var name: String
        var type: String
        var minimum: Int?
        var maximum: Int?
        var `default`: String?
        var options: [String]?
        var help: String
        /// Only for a required parameter: `true`.
        var required: Bool?
    }

    struct Item: Encodable {
        var name: String
        var title: String
        var summary: String
        var parameters: [Parameter]
        var columns: [ReportResponse.Column]
        /// Only for a report restricted by role: the least role that may run it.
        var minimum_role: String?

        init(_ definition: ReportDefinition, surface: Surface) {
            name = definition.name
            title = definition.title
            summary = definition.summary
            minimum_role = definition.minimumRole?.rawValue
            parameters = definition.parameters.map { parameter in
                var described = Self.describe(parameter)
                described.required = parameter.isRequired ? true : nil
                return described
            }
            columns = (definition.query(on: surface)?.fields ?? []).map(ReportResponse.Column.init)
        }

        static func describe(_ parameter: ReportParameter) -> Parameter {
            switch parameter.kind {
            case .integer(let min, let max, let fallback):
                Parameter(name: parameter.name, type: "integer", minimum: min, maximum: max, default: "\(fallback)", help: parameter.help)
            case .date(let daysAgo):
                Parameter(name: parameter.name, type: "date", default: daysAgo.map { "today-\($0)d" }, help: parameter.help)
            case .choice(let options, let fallback):
                Parameter(name: parameter.name, type: "choice", default: fallback, options: options, help: parameter.help)
            case .text(let maxLength):
                Parameter(name: parameter.name, type: "text", maximum: maxLength, help: parameter.help)
            }
        }
    }

    var reports: [Item]

    init(_ definitions: [ReportDefinition], surface: Surface) {
        reports = definitions.map { Item($0, surface: surface) }
    }
}
