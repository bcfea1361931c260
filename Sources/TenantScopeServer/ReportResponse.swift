import HTTPTypes
import Hummingbird
import NIOCore
import TenantScopeCore
import TenantScopePostgres

/// The JSON answer of a report run: `report`, `title`, `scope` (`kind` and `tenant_id` or `operator`), `parameters` (by
/// name, those given or defaulted), `columns`, `rows`, `freshness`, and for a platform report over dedicated clusters
/// `clusters` (`answered`, and `missing`, each with its `cluster` and `reason`). Parameters are in the order of their names.
///
/// Written by the core JSON writer, not Foundation's `JSONEncoder`, which took about 15 % of the server's CPU under
/// uncached report load and more of a cached answer's (architecture decision 75). Numbers are written as `JSONEncoder`
/// writes them (``JSONValue/encoderStyleNumber(_:)``); members in the order above.
struct ReportResponse {
    /// A column as a report's answer and the catalog (``ReportList``) describe it.
    struct Column: Encodable {
        var name: String
        var type: String
        var scope: String
        var title: String

        init(_ field: ReportDefinition.Field) {
            name = field.name
            type = field.type.rawValue
            scope = field.scope.rawValue
            title = field.title
        }

        var json: JSONValue {
            .object(JSONObject([("name", .string(name)), ("type", .string(type)), ("scope", .string(scope)), ("title", .string(title))]))
        }
    }

    let json: JSONValue

    init(_ result: ReportResult) {
        let scope: JSONObject = switch result.scope {
        case .tenant(let tenant): JSONObject([("kind", .string("tenant")), ("tenant_id", .string(tenant.tenant.description))])
        case .platform(let platform): JSONObject([("kind", .string("platform")), ("operator", .string(platform.operatorName))])
        }
        let parameters = result.request.values.filter { $0.value != .null }.mapValues { JSONValue.string($0.description) }
        var body = JSONObject(minimumCapacity: 8)
        body["report"] = .string(result.request.definition.name)
        body["title"] = .string(result.request.definition.title)
        body["scope"] = .object(scope)
        body["parameters"] = .object(JSONObject(parameters))
        body["columns"] = .array(result.fields.map { Column($0).json })
        body["rows"] = .array(result.rows.map { .array($0.map(\.jsonValue)) })
        body["freshness"] = FreshnessBody(result.freshness).json
        if let coverage = result.clusters {
            body["clusters"] = .object(JSONObject([
                ("answered", .array(coverage.answered.map { .string($0.rawValue) })),
                ("missing", .array(coverage.missing.map {
                    .object(JSONObject([("cluster", .string($0.cluster.rawValue)), ("reason", .string($0.reason))]))
                })),
            ]))
        }
        json = .object(body)
    }

    /// The answer as a `200 OK` with its JSON body.
    var response: Response {
        let buffer = ByteBuffer(string: json.jsonText)
        let headers: HTTPFields = [.contentType: "application/json; charset=utf-8", .contentLength: String(buffer.readableBytes)]
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: buffer))
    }
}
