/// Whether the client a piece of work is for is still there, as the server sets it per request.
///
/// Hummingbird does not cancel a handler when its client disconnects, so a request that waited for a
/// database connection would otherwise start its transaction for nobody. ``ScopedDatabase`` asks just
/// before `BEGIN` and starts nothing for a client that is gone (its batch is then certainly not stored,
/// and `stored` stays within the roll-ups' look-back). Work with no client (the roll-up service, the
/// command line) keeps the default: connected.
public enum ClientLiveness {
    @TaskLocal public static var isConnected: @Sendable () -> Bool = { true }
}

/// The client of a request went away before its database work began; nothing was done.
public struct ClientGone: Error, Sendable {
    public init() {}
}
