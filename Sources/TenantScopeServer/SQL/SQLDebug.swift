import Foundation
import Hummingbird
import Logging
import TenantScopeCore
import TenantScopePostgres

/// The admin debug mode of the SQL surface (`"debug": true` on `POST /api/v1/sql`, `?debug=true` on a custom
/// report's run or preview): the scope the query ran in, the text PostgreSQL executed and its plan, in which
/// the row-level security filter shows as PostgreSQL applies it. Tenant admins only: a plan names the tables
/// under the semantic layer, which analysts and viewers do not need to see.
struct SQLDebug: Encodable {
    /// The scope as the sandbox applies it: what a preview and the debug mode show.
    struct Scope: Encodable {
        var kind = "tenant"
        var tenant_id: String
        var actor: String
        var role: String
        /// The signed row attributes (e.g. a region) that narrow the rows further.
        var attributes: [String: String]
        var database_role = "tenantscope_sandbox"
        var row_level_security = "tenant_id = the signed context's tenant"
        var transaction = "read only"
        var statement_timeout_ms: Int
        var work_mem: String
        var temp_file_limit: String
        var row_cap: Int

        init(_ scope: TenantScope, limits: SQLSandbox.Limits) {
            tenant_id = scope.tenant.description
            actor = scope.actor
            role = scope.role.rawValue
            attributes = scope.attributes
            let timeout = limits.statementTimeout.components
            statement_timeout_ms = Int(timeout.seconds * 1000 + timeout.attoseconds / 1_000_000_000_000_000)
            work_mem = limits.workMem
            temp_file_limit = limits.tempFileLimit
            row_cap = limits.rowCap
        }
    }

    var scope: Scope
    var executed_sql: String
    /// `EXPLAIN (VERBOSE, COSTS OFF)` of the executed text, one line per element: no cost or row estimates, which
    /// PostgreSQL takes from statistics over all tenants' rows.
    var plan: [String]

    static func make(_ sql: String, in scope: TenantScope, service: GuardedSQLService, logger: Logger) async throws -> SQLDebug {
        SQLDebug(scope: Scope(scope, limits: service.limits), executed_sql: try service.executedText(sql),
                 plan: try await service.explain(sql, in: scope, logger: logger))
    }

    /// Whether the request asks for the debug mode (`?debug=true`); anything but true or false is a 400.
    static func requested(_ request: Request) throws -> Bool {
        let values = try QueryParameters.pairs(of: request).filter { $0.0 == "debug" }.map(\.1)
        guard values.allSatisfy({ $0 == "true" || $0 == "false" }) else { throw TenantScopeError.invalidInput("debug must be true or false") }
        return values.last == "true"
    }
}
