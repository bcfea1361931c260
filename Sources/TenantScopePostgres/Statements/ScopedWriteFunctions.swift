import Foundation
import Logging
import PostgresNIO

/// Runs a tenant's single writing statement in one round trip (architecture decisions 62 and 63): the statement becomes, once
/// per connection, a PL/pgSQL function in the session's temporary schema that sets the signed context, asks the tenant
/// gate for a write and switches to the tenant role, in that order, and then `RETURN QUERY`s the statement, whose columns
/// must be of the declared types exactly (a data-modifying statement cannot be a subquery to cast them in).
///
/// For statements that are the whole of their transaction and whose refusals write nothing (the xAPI document
/// operations, where a precondition that fails is an outcome the statement returns, not an error it raises; saved views
/// and links, custom reports, export jobs and schedules, whose refusals are rows not returned), so that the call
/// committing on its own is what the transaction did. ``SessionFunctions`` keeps track of them per connection.
final class ScopedWriteFunctions: Sendable {
    static let shared = ScopedWriteFunctions()

    /// The texts of those operations: a few dozen at most.
    private let functions = BoundedMemo<FunctionKey, SessionFunctions.Function>(limit: 64)

    private struct FunctionKey: Hashable {
        let sql: String
        let parameterTypes: [String]
        let columnTypes: [String]
    }

    /// The function that runs `statement`, which returns columns of `columnTypes` (SQL types).
    func function(for statement: BoundStatement, columnTypes: [String]) -> SessionFunctions.Function {
        functions.value(for: FunctionKey(sql: statement.sql, parameterTypes: statement.values.map(\.cast), columnTypes: columnTypes)) { key in
            var sql = Substring(key.sql)
            while let last = sql.last, last.isWhitespace || last == ";" { sql = sql.dropLast() }
            // The `;` on a line of its own: a text ending in a `--` comment would otherwise comment it out.
            let body = """
                #variable_conflict use_column
                BEGIN
                  \(SessionFunctions.scope(contextArgument: key.parameterTypes.count + 1, write: true))
                  RETURN QUERY
                \(sql)
                  ;
                END
                """
            let names = key.columnTypes.indices.map { "c\($0 + 1)" }
            return SessionFunctions.make(prefix: "tenantscope_write_", parameterTypes: key.parameterTypes,
                                         returns: "TABLE (" + zip(names, key.columnTypes).map { "\($0) \($1)" }.joined(separator: ", ") + ")",
                                         body: body)
        }
    }
}
