import Crypto

/// What an ad-hoc query returned: its columns, at most the row cap of rows, and whether there were more.
public struct SQLResult: Sendable, Hashable {
    public struct Column: Sendable, Hashable {
        public let name: String
        /// PostgreSQL's name for the type (`INTEGER`, `TEXT`, `TIMESTAMPTZ`, …).
        public let type: String

        public init(name: String, type: String) {
            self.name = name
            self.type = type
        }
    }

    public let columns: [Column]
    public let rows: [[SQLValue]]
    /// True when the query had more rows than the cap and only the first `rows.count` are here.
    public let truncated: Bool
    public let durationMilliseconds: Int

    public init(columns: [Column], rows: [[SQLValue]], truncated: Bool, durationMilliseconds: Int) {
        self.columns = columns
        self.rows = rows
        self.truncated = truncated
        self.durationMilliseconds = durationMilliseconds
    }
}

/// One value of an ad-hoc query's row, as JSON can carry it.
public enum SQLValue: Sendable, Hashable, Encodable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int)
    case number(Double)
    case text(String)

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .text(let value): try container.encode(value)
        }
    }

    /// The value as a CSV field or plain text shows it (NULL is empty).
    public var description: String {
        switch self {
        case .null: ""
        case .bool(let value): value ? "true" : "false"
        case .integer(let value): "\(value)"
        case .number(let value): "\(value)"
        case .text(let value): value
        }
    }
}

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
