import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `POST /api/v1/sql`: one read-only query over the semantic layer, for a tenant token with the `analyst` or
/// `admin` role. Body `{"sql": "...", "format": "json" | "csv", "debug": false}`; the tenant is the token's, and a
/// body that names one is refused. `"debug": true` (tenant admins, JSON only) adds the scope, the executed text
/// and PostgreSQL's plan (``SQLDebug``).
struct SQLRoutes {
    let service: GuardedSQLService
    let authenticator: BearerAuthenticator
    let audit: AuditLog
    var limits: TenantLimitEnforcer? = nil

    /// The largest body accepted: the query's limit plus room for JSON escapes.
    static let maximumBodyBytes = 4 * SQLGuard.maximumLength

    func register(on router: Router<AppRequestContext>) {
        router.tenantRoutes("api/v1/sql", authenticator: authenticator, purpose: "ad-hoc SQL", audit: audit, limits: limits, work: .queries)
            .post { request, context in
                let body = try await RequestBody.collect(request, limit: Self.maximumBodyBytes)
                let (sql, format, debug) = try Self.parse(body, accept: request.headers[.accept])
                if debug {
                    if context.scope.role != .admin {
                        try await service.refuse(sql, in: context.scope, surface: "api", mode: "debug", message: "the debug mode is for tenant admins",
                                                 logger: context.logger)
                    }
                    guard format == .json else { throw TenantScopeError.invalidInput("the debug mode answers in JSON; drop \"format\": \"csv\"") }
                }
                do {
                    let result = try await service.run(sql, in: context.scope, surface: "api", logger: context.logger)
                    let plan = debug ? try await SQLDebug.make(sql, in: context.scope, service: service, logger: context.logger) : nil
                    return try Self.response(result, format: format, scope: context.scope, sql: sql, debug: plan)
                } catch let refusal as SQLRefusal {
                    return try SQLErrorBody(error: refusal.description, node: refusal.node, position: refusal.position).response()
                } catch let error as SQLExecutionError {
                    return try SQLErrorBody(error: error.message, node: nil, position: error.position).response()
                }
            }
    }

    enum Format: String {
        case json, csv
    }

    static func parse(_ body: Data, accept: String?) throws -> (sql: String, format: Format, debug: Bool) {
        guard let members = try JSONParser.requestBody(body, named: "the body").objectValue else {
            throw TenantScopeError.invalidInput("the body must be a JSON object {\"sql\": \"...\", \"format\": \"json\" | \"csv\"}")
        }
        if let unknown = members.keys.filter({ !["sql", "format", "debug"].contains($0) }).sorted().first {
            let hint = unknown.lowercased().contains("tenant") ? "; the tenant comes from the token" : ""
            throw TenantScopeError.invalidInput("unknown field '\(unknown.prefix(64))'\(hint)")
        }
        guard let sql = members["sql"]?.stringValue, !sql.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw TenantScopeError.invalidInput("'sql' must be a non-empty string")
        }
        var format: Format = AcceptedFormat.prefersCSV(accept) ? .csv : .json
        if let value = members["format"] {
            guard let name = value.stringValue, let chosen = Format(rawValue: name) else {
                throw TenantScopeError.invalidInput("'format' must be \"json\" or \"csv\"")
            }
            format = chosen
        }
        var debug = false
        if let value = members["debug"] {
            guard let flag = value.boolValue else { throw TenantScopeError.invalidInput("'debug' must be true or false") }
            debug = flag
        }
        return (sql, format, debug)
    }

    static func response(_ result: SQLResult, format: Format, scope: TenantScope, sql: String, debug: SQLDebug? = nil) throws -> Response {
        switch format {
        case .csv:
            var lines = [result.columns.map { CSV.escape($0.name) }.joined(separator: ",")]
            lines += result.rows.map { $0.map { CSV.escape($0.description) }.joined(separator: ",") }
            var headers = HTTPFields()
            headers[.contentType] = "text/csv; charset=utf-8"
            headers[.contentDisposition] = "attachment; filename=\"query.csv\""
            headers[HTTPField.Name("X-TenantScope-Truncated")!] = result.truncated ? "true" : "false"
            headers[FreshnessBody.headerName] = result.freshness.headerValue
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: lines.joined(separator: "\r\n") + "\r\n")))
        case .json:
            var headers = HTTPFields()
            headers[.contentType] = "application/json; charset=utf-8"
            headers[FreshnessBody.headerName] = result.freshness.headerValue
            var body = SQLResponse(result, scope: scope, sql: sql)
            body.debug = debug
            let data = try JSONEncoder().encode(body)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: data)))
        }
    }
}

/// The JSON shape of a query's result.
struct SQLResponse: Encodable {
    struct Column: Encodable {
        var name: String
        var type: String
    }

    struct Scope: Encodable {
        var kind = "tenant"
        var tenant_id: String
    }

    var scope: Scope
    var sql_sha256: String
    var columns: [Column]
    var rows: [[SQLValue]]
    var row_count: Int
    var truncated: Bool
    var duration_ms: Int
    /// Which database answered (a read replica, or the primary) and how far behind the primary it was.
    var freshness: FreshnessBody
    /// Only in the admin debug mode.
    var debug: SQLDebug?

    init(_ result: SQLResult, scope: TenantScope, sql: String) {
        self.scope = Scope(tenant_id: scope.tenant.description)
        sql_sha256 = SQLGuard.sha256(sql)
        columns = result.columns.map { Column(name: $0.name, type: $0.type) }
        rows = result.rows
        row_count = result.rows.count
        truncated = result.truncated
        duration_ms = result.durationMilliseconds
        freshness = FreshnessBody(result.freshness)
    }
}

/// A refused or failed query: 400 with the reason and, when known, the node and the 1-based position.
struct SQLErrorBody: Encodable {
    var error: String
    var status = 400
    var node: String?
    var position: Int?

    init(error: String, node: String?, position: Int?) {
        self.error = error
        self.node = node
        self.position = position
    }

    func response() throws -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        return Response(status: .badRequest, headers: headers, body: .init(byteBuffer: .init(bytes: try JSONEncoder().encode(self))))
    }
}
