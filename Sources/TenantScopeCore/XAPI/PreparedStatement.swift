import Foundation

/// A validated, completed statement ready to store: its JSON text and the facts read from it.
public struct PreparedStatement: Sendable, Hashable {
    public var id: UUID
    /// The statement as stored and served (with `id`, `stored`, `authority`, `version` filled in).
    public var json: String
    public var facts: StatementFacts
    public var stored: Date
    /// `stored` exactly as written into the statement and the `stored` column (UTC, microseconds).
    public var storedText: String
    /// Whether the sender gave a timestamp (when not, the stored time stands in and a re-sent copy of the
    /// statement is compared without it).
    public var senderGaveTimestamp: Bool

    public init(id: UUID, json: String, facts: StatementFacts, stored: Date, storedText: String? = nil, senderGaveTimestamp: Bool) {
        self.id = id
        self.json = json
        self.facts = facts
        self.stored = stored
        self.storedText = storedText ?? ISO8601Timestamp.formatMicroseconds(stored)
        self.senderGaveTimestamp = senderGaveTimestamp
    }
}
