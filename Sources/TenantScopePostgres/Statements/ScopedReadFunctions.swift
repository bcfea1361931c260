import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Runs a tenant's read-only statement in one round trip (architecture decision 61).
///
/// A scoped transaction is four exchanges (`BEGIN`, the scope statement, the body, `COMMIT`), and PostgresNIO can
/// neither pipeline them nor send them as one simple query. So each statement a report runs becomes, once per
/// connection, a PL/pgSQL function in the session's own temporary schema, created by the tenant login:
///
/// ```sql
/// CREATE OR REPLACE FUNCTION pg_temp.tenantscope_read_<hash>(<the statement's parameter types>, text)
/// RETURNS TABLE (c1 <type>, …) LANGUAGE plpgsql
///   SET search_path = pg_catalog, pg_temp SET plan_cache_mode = <the statement's> SET "TimeZone" = 'UTC' AS …
///   PERFORM gate.tenant_gate(set_config('app.tenant_ctx', <last argument>, true), false),
///           set_config('role', 'tenantscope_tenant', true), set_config('transaction_read_only', 'on', true);
///   RETURN QUERY SELECT r.c1::<type>, … FROM (<the statement>) AS r (c1, …);
/// ```
///
/// and a request runs `SELECT * FROM pg_temp.tenantscope_read_<hash>(…, <signed context>)`, prepared
/// (``PreparedStatements``), as one implicit transaction. PL/pgSQL runs its statements in order, so the signed
/// context, the tenant gate, the role and read-only mode are in force before the report reads a row: what one
/// statement with the settings in a subquery could not promise. The role ends with the call (a `SET` clause), the
/// context and read-only mode with the call's own transaction, which ends at its `Sync`: nothing of the scope outlives
/// it (``SessionFunctions/make(prefix:parameterTypes:returns:settings:body:)``).
///
/// The plan cache mode is `force_custom_plan` (each call planned for its values, decision 55), or `force_generic_plan` for
/// a statement planned once per connection (``QueryPlanning/oncePerConnection``, decision 75): PL/pgSQL then keeps the
/// statement's one plan for the session, and a call runs it without planning.
///
/// The function runs with the caller's rights (the tenant login's, which may call `set_config`; the tenant role it
/// switches to may not), holds no data and no tenant, and is the same text for every tenant: a temporary object
/// lets the login do nothing it could not already do in a transaction of its own. The report's columns are cast to
/// the types its fields are decoded as, since `RETURN QUERY` needs the declared types exactly.
///
/// The report's `ORDER BY` sits inside the subquery; PostgreSQL keeps a sorted subquery's order through a plain
/// projection, and `ReportTests` compares every report's rows, in order, with its answer in a transaction.
///
/// Which functions a session has, its statement timeout, and what happens when it loses them or may not create them is
/// ``SessionFunctions``' business. Behind a pooler in transaction mode, which hands each statement to any server
/// connection, a session's functions and timeout do not follow its calls: `serve --no-session-functions` turns the
/// calls off.
final class ScopedReadFunctions: Sendable {
    static let shared = ScopedReadFunctions()

    typealias Function = SessionFunctions.Function

    /// The texts are the catalog's reports (served and cold), each with the types of its NULL parameters.
    private let functions = BoundedMemo<FunctionKey, Function>(limit: 512)

    private struct FunctionKey: Hashable {
        let sql: String
        let parameterTypes: [String]
        let columnTypes: [String]
        /// A platform report's, made by the server's login: the platform role instead of the tenant gate and role.
        let platform: Bool
        /// How the function plans the statement: for each call's values, or once for the session (decision 75).
        let planning: QueryPlanning
    }

    /// The function that runs `statement` and returns `columns`.
    func function(for statement: BoundStatement, columns: [ReportDefinition.FieldType]) -> Function {
        function(for: statement, columnTypes: columns.map(Self.sqlType))
    }

    /// The function that runs `statement` and returns columns of `columnTypes` (SQL types), each cast to its type; in the
    /// platform scope with `platform`.
    func function(for statement: BoundStatement, columnTypes: [String], platform: Bool = false) -> Function {
        let key = FunctionKey(sql: statement.sql, parameterTypes: statement.values.map(\.cast), columnTypes: columnTypes, platform: platform,
                              planning: statement.planning)
        return functions.value(for: key, make: Self.makeFunction)
    }

    private static func makeFunction(_ key: FunctionKey) -> Function {
        // A trailing semicolon would end the subquery the statement becomes.
        var sql = Substring(key.sql)
        while let last = sql.last, last.isWhitespace || last == ";" { sql = sql.dropLast() }
        let names = key.columnTypes.indices.map { "c\($0 + 1)" }
        let body = """
            #variable_conflict use_column
            BEGIN
              \(SessionFunctions.scope(contextArgument: key.parameterTypes.count + 1, write: false, platform: key.platform))
              RETURN QUERY SELECT \(zip(names, key.columnTypes).map { "r.\($0)::\($1)" }.joined(separator: ", ")) FROM (
            \(sql)
              ) AS r (\(names.joined(separator: ", ")));
            END
            """
        return SessionFunctions.make(
            prefix: key.platform ? "tenantscope_platform_read_" : "tenantscope_read_", parameterTypes: key.parameterTypes,
            returns: "TABLE (" + zip(names, key.columnTypes).map { "\($0) \($1)" }.joined(separator: ", ") + ")",
            settings: "SET plan_cache_mode = \(key.planning.planCacheMode)", body: body)
    }

    /// The SQL type a field's column is cast to: the type ``ReportCell`` decodes it from.
    static func sqlType(_ type: ReportDefinition.FieldType) -> String {
        switch type {
        case .text: "text"
        case .integer: "int8"
        case .number: "float8"
        case .date: "date"
        }
    }

    /// The rows of `statement` in the scope `context` signs, on `connection`, in one round trip once the function exists
    /// there; nil when this connection runs transactions (``SessionFunctions``). `timeoutMilliseconds` bounds the call on
    /// the server.
    func rows(_ statement: BoundStatement, columns: [ReportDefinition.FieldType], context: String, timeoutMilliseconds: String,
              on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow]? {
        try await rows(statement, columnTypes: columns.map(Self.sqlType), context: context, timeoutMilliseconds: timeoutMilliseconds,
                       on: connection, logger: logger)
    }

    /// ``rows(_:columns:context:timeoutMilliseconds:on:logger:)`` with columns of SQL types; in the platform scope with
    /// `platform` (`context` then empty).
    func rows(_ statement: BoundStatement, columnTypes: [String], context: String, timeoutMilliseconds: String, platform: Bool = false,
              on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow]? {
        let function = function(for: statement, columnTypes: columnTypes, platform: platform)
        var call = BoundStatement(sql: function.call, values: statement.values + [.text(context)])
        call.mayBePrepared = statement.mayBePrepared
        return try await SessionFunctions.shared.rows(of: call, function, timeoutMilliseconds: timeoutMilliseconds, on: connection, logger: logger)
    }
}
