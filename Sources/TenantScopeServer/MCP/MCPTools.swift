import Foundation
import Logging
import MCP
import TenantScopeCore
import TenantScopePostgres

/// The tools and the resource an agent gets at `/mcp`, bound to one tenant scope.
///
/// `list_reports` and `run_report` are the catalog, as `/api/v1/reports` serves it; `describe_semantic_layer`
/// and the `tenantscope://semantic-layer` resource document the views; `run_sql` is ``GuardedSQLService``
/// (same role check, guard, sandbox and audit row as `/api/v1/sql`, audited with `via: mcp`). A tool's failure
/// is a result with `isError`, so the agent can read why and try again.
struct MCPTools: Sendable {
    let reports: ReportRunner
    let sql: GuardedSQLService

    static let resourceURI = "tenantscope://semantic-layer"

    static let toolList: [Tool] = [
        Tool(name: "list_reports", description: "The reports this token may run, with their parameters and columns.",
             inputSchema: .object(["type": "object", "properties": .object([:]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: "run_report", description: "Run one report of list_reports for this token's tenant; parameters are the report's own, as strings.",
             inputSchema: .object([
                 "type": "object",
                 "properties": .object([
                     "name": .object(["type": "string", "description": "The report's name, from list_reports."]),
                     "parameters": .object(["type": "object", "additionalProperties": .object(["type": "string"])]),
                 ]),
                 "required": .array(["name"]), "additionalProperties": false,
             ]), annotations: .init(readOnlyHint: true)),
        Tool(name: "describe_semantic_layer", description: "The views run_sql may read (schema semantic): columns, types and what they mean, and the SQL rules.",
             inputSchema: .object(["type": "object", "properties": .object([:]), "additionalProperties": false]),
             annotations: .init(readOnlyHint: true)),
        Tool(name: "run_sql", description: """
            Run one read-only SELECT over the semantic layer for this token's tenant (analyst or admin tokens). \
            Unqualified names are semantic views; only allow-listed functions; at most 1000 rows (truncated is true when there were more).
            """,
             inputSchema: .object([
                 "type": "object",
                 "properties": .object(["sql": .object(["type": "string", "description": "One SELECT (or WITH ... SELECT)."])]),
                 "required": .array(["sql"]), "additionalProperties": false,
             ]), annotations: .init(readOnlyHint: true)),
    ]

    /// A server whose handlers act in `scope` only.
    func server(for scope: TenantScope, logger: Logger) async -> Server {
        let server = Server(name: "TenantScope", version: "1.0", title: "TenantScope reporting",
                            instructions: "Learning analytics for one tenant: the token's. Start with describe_semantic_layer or list_reports.",
                            capabilities: .init(resources: .init(subscribe: false, listChanged: false), tools: .init(listChanged: false)))
        await register(on: server, scope: scope, logger: logger)
        return server
    }

    func register(on server: Server, scope: TenantScope, logger: Logger) async {
        await server.withMethodHandler(ListTools.self) { _ in ListTools.Result(tools: Self.toolList) }
        await server.withMethodHandler(CallTool.self) { parameters in
            await call(parameters.name, arguments: parameters.arguments ?? [:], scope: scope, logger: logger)
        }
        await server.withMethodHandler(ListResources.self) { _ in
            ListResources.Result(resources: [Resource(name: "semantic-layer", uri: Self.resourceURI, title: "The semantic layer",
                                                      description: "Views, columns and comments run_sql may read", mimeType: "text/plain")])
        }
        await server.withMethodHandler(ReadResource.self) { parameters in
            guard parameters.uri == Self.resourceURI else { throw MCPError.invalidParams("unknown resource \(parameters.uri.prefix(200))") }
            return ReadResource.Result(contents: [.text(Self.layerDescription, uri: Self.resourceURI, mimeType: "text/plain")])
        }
    }

    static var layerDescription: String {
        """
        TenantScope semantic layer (schema semantic). Every view shows the current tenant's rows only.
        run_sql accepts one SELECT (or WITH ... SELECT) over these views; unqualified names resolve to them.
        Allowed: aggregates, window functions, arithmetic, text, date/time functions, casts to plain types.
        Refused: other schemas and catalogs, settings, sleeping, files, network, locks, writes, several statements.

        \(SemanticLayer.schemaText)
        """
    }

    /// The arguments each tool takes: its schema's properties (every schema says `additionalProperties: false`).
    static let arguments: [String: Set<String>] = ["list_reports": [], "run_report": ["name", "parameters"], "describe_semantic_layer": [],
                                                   "run_sql": ["sql"]]

    /// Whether `name` names a tenant (an organisation) the way the HTTP surface refuses it.
    static func namesATenant(_ name: String) -> Bool {
        let lowered = name.lowercased()
        return lowered.contains("tenant") || ReportRequest.tenantParameterNames.contains(lowered)
    }

    func call(_ name: String, arguments: [String: Value], scope: TenantScope, logger: Logger) async -> CallTool.Result {
        if let named = arguments.keys.sorted().first(where: Self.namesATenant) {
            return Self.failure("argument '\(named.prefix(64))' is not accepted: the tenant comes from the token")
        }
        if let accepted = Self.arguments[name], let unknown = arguments.keys.sorted().first(where: { !accepted.contains($0) }) {
            return Self.failure("argument '\(unknown.prefix(64))' is not one of \(name)'s: \(accepted.isEmpty ? "it takes none" : accepted.sorted().joined(separator: ", "))")
        }
        do {
            switch name {
            case "list_reports":
                return try Self.json(ReportList(reports.list(on: .tenant, role: scope.role), surface: .tenant))
            case "run_report":
                guard let report = arguments["name"]?.stringValue else { return Self.failure("'name' must be a report name from list_reports") }
                var pairs: [(String, String)] = []
                if let given = arguments["parameters"], given.objectValue == nil {
                    return Self.failure("'parameters' must be an object of strings, as {\"days\": \"7\"}")
                }
                for (key, value) in arguments["parameters"]?.objectValue ?? [:] {
                    guard let text = value.stringValue else { return Self.failure("parameter '\(key.prefix(64))' must be a string") }
                    if Self.namesATenant(key) { return Self.failure("parameter '\(key.prefix(64))' is not accepted: the tenant comes from the token") }
                    pairs.append((key, text))
                }
                let result = try await reports.run(report, in: .tenant(scope), parameters: pairs, logger: logger)
                return CallTool.Result(content: [Self.text(ReportResponse(result).json.jsonText)])
            case "describe_semantic_layer":
                return CallTool.Result(content: [Self.text(Self.layerDescription)])
            case "run_sql":
                guard let text = arguments["sql"]?.stringValue else { return Self.failure("'sql' must be a string") }
                let result = try await sql.run(text, in: scope, surface: "mcp", logger: logger)
                return try Self.json(SQLResponse(result, scope: scope, sql: text))
            default:
                return Self.failure("unknown tool '\(name.prefix(64))'")
            }
        } catch let error as SQLRefusal {
            return Self.failure(error.description)
        } catch let error as SQLExecutionError {
            return Self.failure(error.message + (error.position.map { " (position \($0))" } ?? ""))
        } catch let error as TenantScopeError {
            return Self.failure(error.message)
        } catch is DatabaseUnavailable {
            return Self.failure("the database is unavailable; retry shortly")
        } catch {
            logger.error("MCP tool failed", metadata: ["mcp.tool": "\(name.prefix(64))", "error": "\(String(reflecting: error))"])
            return Self.failure("the tool failed")
        }
    }

    static func json(_ value: some Encodable) throws -> CallTool.Result {
        let data = try JSONEncoder().encode(value)
        return CallTool.Result(content: [text(String(decoding: data, as: UTF8.self))])
    }

    /// A tool's text content, without annotations.
    static func text(_ text: String) -> Tool.Content {
        .text(text: text, annotations: nil, _meta: nil)
    }

    static func failure(_ message: String) -> CallTool.Result {
        CallTool.Result(content: [text(message)], isError: true)
    }
}
