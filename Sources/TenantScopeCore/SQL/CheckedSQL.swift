import Crypto

/// A query the guard accepted (``SQLGuard/checked(_:)``), the only kind the sandbox runs in production.
public struct CheckedSQL: Sendable, Hashable {
    public let text: String

    init(text: String) {
        self.text = text
    }

    /// A query that skipped the parser guard: only for the tests that prove the second layer (the sandbox
    /// role, row-level security, the read-only transaction) holds on its own.
    public static func unguardedForTesting(_ text: String) -> CheckedSQL {
        CheckedSQL(text: text)
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
        return CheckedSQL(text: String(decoding: bytes[start..<end], as: UTF8.self))
    }
}

extension SQLGuard {
    /// The SHA-256 of a query's text, hex: what the audit row and the result cache key on.
    public static func sha256(_ sql: String) -> String {
        Hex.encode(SHA256.hash(data: Array(sql.utf8)))
    }
}
