import CPgQuery
import TenantScopeCore

/// Parses SQL with PostgreSQL 15's own parser (libpg_query) into its JSON parse tree.
///
/// The parser is the server's: what it accepts and how it reads an identifier, a string or a comment is
/// exactly what PostgreSQL will run, so ``SQLGuard`` judges the query PostgreSQL sees, not a guess at it.
/// A pure function (libpg_query keeps its memory per thread); no database is involved.
public enum PostgresSQLParser {
    /// The parse tree of `sql`, or a refusal naming the syntax error and its position.
    public static func parse(_ sql: String) -> Result<JSONValue, SQLRefusal> {
        if sql.utf8.contains(0) {
            return .failure(SQLRefusal(reason: "the query contains a NUL character", node: "syntax", position: nil))
        }
        let result = pg_query_parse(sql)
        defer { pg_query_free_parse_result(result) }
        if let error = result.error {
            let message = error.pointee.message.map { String(cString: $0) } ?? "syntax error"
            let position = Int(error.pointee.cursorpos)
            return .failure(SQLRefusal(reason: message, node: "syntax", position: position > 0 ? position : nil))
        }
        guard let tree = result.parse_tree else {
            return .failure(SQLRefusal(reason: "the parser returned nothing", node: "syntax", position: nil))
        }
        let text = String(cString: tree)
        do {
            return .success(try JSONParser.parse(Array(text.utf8)))
        } catch {
            // Only a tree deeper than the JSON parser's limit gets here.
            return .failure(SQLRefusal(reason: "the query is nested too deeply", node: "syntax", position: nil))
        }
    }
}
