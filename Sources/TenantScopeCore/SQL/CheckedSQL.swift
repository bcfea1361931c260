import Crypto
import Foundation

/// A query the guard accepted (``SQLGuard/checked(_:)``), the only kind the sandbox runs in production.
public struct CheckedSQL: Sendable, Hashable {
    public let text: String
    /// Whether the answer can change while the data stays the same: the query reads the clock (`now()`,
    /// `CURRENT_DATE`, `'today'::date`, …) or calls `random()`. Such a query's result is never cached.
    public let variesBetweenRuns: Bool

    init(text: String, variesBetweenRuns: Bool) {
        self.text = text
        self.variesBetweenRuns = variesBetweenRuns
    }

    /// A query that skipped the parser guard: only for the tests that prove the second layer (the sandbox
    /// role, row-level security, the read-only transaction) holds on its own. Unparsed, it counts as varying.
    public static func unguardedForTesting(_ text: String) -> CheckedSQL {
        CheckedSQL(text: text, variesBetweenRuns: true)
    }
}

extension SQLGuard {
    /// Checks `sql`, given its parse tree, and returns it as a ``CheckedSQL``.
    /// The text is the statement alone, as the parser delimited it (no trailing `;` or comment after it).
    public static func checked(_ tree: JSONValue, sql: String) throws(SQLRefusal) -> CheckedSQL {
        try check(tree, sql: sql)
        let statement = tree["stmts"]?.arrayValue?.first
        let bytes = Array(sql.utf8)
        let start = min(max(statement?["stmt_location"]?.numberValue.map { Int($0) } ?? 0, 0), bytes.count)
        let length = statement?["stmt_len"]?.numberValue.map { Int($0) } ?? 0
        let end = length > 0 ? min(start + length, bytes.count) : bytes.count
        return CheckedSQL(text: String(decoding: bytes[start..<end], as: UTF8.self), variesBetweenRuns: variesBetweenRuns(tree))
    }

    /// Functions the guard allows whose value is not decided by their arguments and the data: clock readings
    /// (`age` with one argument counts from `CURRENT_DATE`) and `random`.
    static let varyingFunctions: Set<String> = ["now", "statement_timestamp", "transaction_timestamp", "clock_timestamp", "age", "random"]

    /// Input strings of the date and time types that read the clock when cast (`'today'::date`).
    static let varyingLiterals: Set<String> = ["now", "today", "tomorrow", "yesterday"]

    /// Whether anywhere in `node` (a parse tree) a varying function is called, a clock `SQLValueFunction`
    /// (`CURRENT_DATE`, `LOCALTIMESTAMP`, …: the only ones the guard allows) is read, or a string constant is one of
    /// ``varyingLiterals`` in any context (a false positive costs only the cache).
    static func variesBetweenRuns(_ node: JSONValue) -> Bool {
        switch node {
        case .array(let elements):
            return elements.contains(where: variesBetweenRuns)
        case .object(let object):
            if object["SQLValueFunction"] != nil { return true }
            if let call = object["FuncCall"],
               let name = call["funcname"]?.arrayValue?.last?["String"]?["sval"]?.stringValue, varyingFunctions.contains(name) {
                return true
            }
            if let text = object["sval"]?["sval"]?.stringValue,
               varyingLiterals.contains(text.trimmingCharacters(in: .whitespaces).lowercased()) {
                return true
            }
            return object.values.contains(where: variesBetweenRuns)
        default:
            return false
        }
    }
}

extension SQLGuard {
    /// The SHA-256 of a query's text, hex: what the audit row and the result cache key on.
    public static func sha256(_ sql: String) -> String {
        Hex.encode(SHA256.hash(data: Array(sql.utf8)))
    }
}
