/// Where the read replicas are and how stale a replica may be before reads skip it (`serve --replica-url`,
/// `--replica-max-lag`).
public struct ReplicaConfiguration: Sendable {
    public static let defaultMaximumLag: Duration = .seconds(10)
    public static let defaultProbeInterval: Duration = .seconds(1)

    /// Host, port and database of each replica (users in them are ignored: the server logs in with its roles).
    public var endpoints: [DatabaseEndpoint]
    /// A replica further behind the primary than this, or not measured within a few probe intervals, is skipped.
    public var maximumLag: Duration
    /// How often each replica's lag is measured.
    public var probeInterval: Duration
    /// How long a read waits for a replica connection before it goes to the primary instead.
    public var acquireTimeout: Duration
    /// How old a measurement may be before the replica counts as unmeasured: by default three probe
    /// intervals, at least 3 s (a monitor that stopped measuring must not keep a replica in use).
    public var measurementMaximumAge: Duration
    /// How long one probe of a replica may take before the replica counts as unreachable.
    public var probeTimeout: Duration

    public init(endpoints: [DatabaseEndpoint], maximumLag: Duration = defaultMaximumLag, probeInterval: Duration = defaultProbeInterval,
                acquireTimeout: Duration = .seconds(2), measurementMaximumAge: Duration? = nil, probeTimeout: Duration = .seconds(5)) {
        self.endpoints = endpoints
        self.maximumLag = maximumLag
        self.probeInterval = probeInterval
        self.acquireTimeout = acquireTimeout
        self.measurementMaximumAge = measurementMaximumAge ?? max(probeInterval * 3, .seconds(3))
        self.probeTimeout = probeTimeout
    }
}
