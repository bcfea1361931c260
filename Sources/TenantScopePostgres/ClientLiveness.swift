/// Whether the client a piece of work is for is still there, as the server sets it per request.
///
/// Hummingbird does not cancel a handler when its client disconnects, so a request that waited for a
/// database connection would otherwise start its transaction for nobody. ``ScopedDatabase`` asks just
/// before `BEGIN` and starts nothing for a client that is gone (its batch is then certainly not stored,
/// and `stored` stays within the roll-ups' look-back). Work with no client (the roll-up service, the
/// command line) keeps the default: connected.
///
/// The task-local value is this class, not the bare closure: Swift 6.3's optimizer specialized
/// `TaskLocal.withValue` for a closure value into a push with bad type metadata, and every request of a
/// release build crashed in `swift_task_localValuePush`. A reference is the shape task locals are
/// exercised with most.
public final class ClientLiveness: Sendable {
    @TaskLocal public static var current = ClientLiveness { true }

    private let probe: @Sendable () -> Bool

    public init(_ probe: @escaping @Sendable () -> Bool) {
        self.probe = probe
    }

    public var isConnected: Bool { probe() }
}

/// The client of a request went away before its database work began; nothing was done.
public struct ClientGone: Error, Sendable {
    public init() {}
}
