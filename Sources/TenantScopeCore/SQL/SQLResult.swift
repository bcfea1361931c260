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
    /// Which database answered and how far behind the primary it was.
    public let freshness: DataFreshness

    public init(columns: [Column], rows: [[SQLValue]], truncated: Bool, durationMilliseconds: Int, freshness: DataFreshness = .primary) {
        self.columns = columns
        self.rows = rows
        self.truncated = truncated
        self.durationMilliseconds = durationMilliseconds
        self.freshness = freshness
    }
}
