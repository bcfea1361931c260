/// Why the guarded SQL surface will not run a query: the reason, the parse-tree node that caused it and
/// its position (1-based character offset into the query, as PostgreSQL reports positions).
///
/// Its text names only what the caller wrote (a function, a relation, a node type), never anything of
/// the database beyond the semantic layer.
public struct SQLRefusal: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    public let node: String
    public let position: Int?

    public init(reason: String, node: String, position: Int?) {
        self.reason = reason
        self.node = node
        self.position = position
    }

    public var description: String {
        "query refused: \(reason) (\(node)\(position.map { " at position \($0)" } ?? ""))"
    }
}
