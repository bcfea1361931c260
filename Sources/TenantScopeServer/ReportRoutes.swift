import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `/api/v1/reports` (tenant tokens) and `/api/v1/platform/reports` (platform tokens).
///
/// Handlers only translate HTTP to the report helper and back: they never build SQL and never read a
/// tenant from the request.
struct ReportRoutes {
    let runner: ReportRunner
    let verifier: TokenVerifier

    func register(on router: Router<AppRequestContext>) {
        for surface in [ReportRequest.Surface.tenant, .platform] {
            let path: RouterPath = surface == .tenant ? "api/v1/reports" : "api/v1/platform/reports"
            let group = router.group(path)
                .add(middleware: TenantParameterGuard())
                .add(middleware: BearerAuthenticator(verifier: verifier, surface: surface == .tenant ? .tenant : .platform))
            group.get { _, context in
                let definitions = try await runner.list(for: try context.requirePrincipal(), surface: surface)
                return try JSONBody(ReportList(reports: definitions.map { ReportList.Item($0, surface: surface) }))
            }
            group.get(":name") { request, context in
                let name = try context.parameters.require("name")
                let parameters = request.uri.queryParameters.map { (String($0.key), String($0.value)) }
                let result = try await runner.run(try context.requirePrincipal(), report: name, surface: surface, parameters: parameters)
                if Self.wantsCSV(request) {
                    var headers = HTTPFields()
                    headers[.contentType] = "text/csv; charset=utf-8"
                    headers[.contentDisposition] = "attachment; filename=\"\(name).csv\""
                    return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: CSV.render(result))))
                }
                return try JSONBody(ReportResponse(result)).response(from: request, context: context)
            }
        }
    }

    static func wantsCSV(_ request: Request) -> Bool {
        guard let accept = request.headers[.accept]?.lowercased() else { return false }
        return accept.contains("text/csv") && !accept.hasPrefix("application/json")
    }
}

/// The JSON shape of a report run.
struct ReportResponse: Encodable {
    struct Column: Encodable {
        var name: String
        var type: String
        var scope: String
        var title: String
    }

    struct Scope: Encodable {
        var kind: String
        var tenant_id: String?
        var `operator`: String?
    }

    var report: String
    var title: String
    var scope: Scope
    var parameters: [String: String]
    var columns: [Column]
    var rows: [[ReportCell]]

    init(_ result: ReportResult) {
        report = result.request.definition.name
        title = result.request.definition.title
        scope = switch result.scope {
        case .tenant(let tenant): Scope(kind: "tenant", tenant_id: tenant.description, operator: nil)
        case .platform(let name): Scope(kind: "platform", tenant_id: nil, operator: name)
        }
        parameters = result.request.values.filter { $0.value != .null }.mapValues(\.description)
        columns = result.fields.map { Column(name: $0.name, type: $0.type.rawValue, scope: $0.scope.rawValue, title: $0.title) }
        rows = result.rows
    }
}

/// The JSON shape of the catalog as one caller sees it.
struct ReportList: Encodable {
    struct Parameter: Encodable {
        var name: String
        var type: String
        var minimum: Int?
        var maximum: Int?
        var `default`: String?
        var options: [String]?
        var help: String
    }

    struct Item: Encodable {
        var name: String
        var title: String
        var summary: String
        var parameters: [Parameter]
        var columns: [ReportResponse.Column]

        init(_ definition: ReportDefinition, surface: ReportRequest.Surface) {
            name = definition.name
            title = definition.title
            summary = definition.summary
            parameters = definition.parameters.map { parameter in
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
            let query = surface == .tenant ? definition.tenantQuery : definition.platformQuery
            columns = (query?.fields ?? []).map {
                ReportResponse.Column(name: $0.name, type: $0.type.rawValue, scope: $0.scope.rawValue, title: $0.title)
            }
        }
    }

    var reports: [Item]
}

/// Encodes a value as a JSON response.
struct JSONBody<Value: Encodable>: ResponseGenerator {
    let value: Value
    init(_ value: Value) throws { self.value = value }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: try encoder.encode(value))))
    }
}

/// RFC 4180 CSV of a report result: a header row of column names, then the rows.
enum CSV {
    static func render(_ result: ReportResult) -> String {
        var lines = [result.fields.map { escape($0.name) }.joined(separator: ",")]
        for row in result.rows {
            lines.append(row.map { escape($0.description) }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func escape(_ value: String) -> String {
        // A leading = + - @ would be a formula in a spreadsheet; prefix it so it stays text.
        var text = value
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
