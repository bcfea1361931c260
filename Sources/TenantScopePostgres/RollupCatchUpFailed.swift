/// A tenant's roll-ups could not be caught up in a pass; the chunk derived before them was committed, and the next
/// pass tries the roll-ups again. `reason` is PostgreSQL's SQLSTATE and message, as `app.catch_up_queued` caught them.
public struct RollupCatchUpFailed: Error, Hashable, Sendable, CustomStringConvertible {
    public var reason: String

    public var description: String { "the roll-up catch-up failed and will be retried: \(reason)" }
}
