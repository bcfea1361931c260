import PostgresNIO

/// PostgreSQL refused or stopped a tenant's ad-hoc query: a 400 for the caller, with a message that says
/// what to fix without echoing anything beyond the semantic layer.
///
/// Only PostgreSQL's primary message for errors about the query itself (syntax, unknown column or function,
/// type mismatch, bad data) is passed on, and only when it names nothing of the schema underneath
/// (`app`, `app_private`, a TenantScope role); never its DETAIL or HINT, which can quote other rows' values
/// or suggest hidden columns. Everything else gets a fixed message per class.
public struct SQLExecutionError: Error, Hashable, Sendable, CustomStringConvertible {
    public let message: String
    /// 1-based character position in the query, when PostgreSQL gave one.
    public let position: Int?
    /// PostgreSQL's SQLSTATE, when the error came from it (for the audit row and tests).
    public let sqlState: String?

    public init(message: String, position: Int?, sqlState: String? = nil) {
        self.message = message
        self.position = position
        self.sqlState = sqlState
    }

    public var description: String { message }

    /// `positionOffset`: characters the runner put before the caller's text.
    init(_ error: PSQLError, positionOffset: Int) {
        let state = error.serverInfo?[.sqlState] ?? ""
        let primary = error.serverInfo?[.message] ?? ""
        let position = error.serverInfo?[.position].flatMap { Int($0) }.map { $0 - positionOffset }.flatMap { $0 > 0 ? $0 : nil }
        self.init(message: Self.message(state: state, primary: primary), position: position, sqlState: state)
    }

    /// Words that would reveal the schema under the semantic layer.
    static let internalNames = ["app.", "app_private", "tenantscope", "tenant_ctx", "tenant_id", "actor_key", "learner_key", "learner_hash", "schema \"app\""]

    static func message(state: String, primary: String) -> String {
        let lowered = primary.lowercased()
        let revealing = internalNames.contains { lowered.contains($0) }
        switch state {
        case "57014": return "the query ran longer than the SQL surface's time limit; narrow it or aggregate first"
        case "53400", "53100", "53200": return "the query needs more memory or temporary space than the SQL surface allows; narrow it or aggregate first"
        case "42501": return "the query reads something outside the semantic layer (permission denied)"
        case "25006": return "the query tries to change data; the SQL surface is read-only"
        case "P0001", "28000": return "the query was refused by the database's tenant isolation"
        case "54001": return "the query is too complex"
        default: break
        }
        // Errors about the query itself: syntax (42601), undefined column/function/table (42703, 42883, 42P01),
        // grouping (42803), type mismatch (42804, 42846), ambiguity (42702, 42725), data (22xxx), cardinality (21000),
        // a limit of the answer's (54000: a row over the sandbox's row bound, migration 56).
        let passOn = state.hasPrefix("42") || state.hasPrefix("22") || state == "21000" || state == "2202E" || state == "54000"
        if passOn, !revealing, !primary.isEmpty {
            return "PostgreSQL: \(primary)"
        }
        return "PostgreSQL refused the query (SQLSTATE \(state.isEmpty ? "unknown" : state))"
    }
}
