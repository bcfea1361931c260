/// Which database answered a read and how far behind the primary it was: reports and SQL results carry it,
/// so a dashboard can say "as of a few seconds ago" when a read replica served it.
public struct DataFreshness: Sendable, Hashable {
    public enum Source: String, Sendable, Hashable {
        /// The primary, or the server's report cache holding the primary's answer at the current roll-ups.
        case primary
        case replica
    }

    public let source: Source
    /// The replica's name (`replica-1`, ...), nil for the primary.
    public let replica: String?
    /// How far the answering database was behind the primary when last measured (0 for the primary).
    public let lagSeconds: Double

    public init(source: Source, replica: String?, lagSeconds: Double) {
        self.source = source
        self.replica = replica
        self.lagSeconds = lagSeconds
    }

    public static let primary = DataFreshness(source: .primary, replica: nil, lagSeconds: 0)

    public static func replica(_ name: String, lagSeconds: Double) -> DataFreshness {
        DataFreshness(source: .replica, replica: name, lagSeconds: lagSeconds)
    }

    /// The `TenantScope-Freshness` header's value: `primary`, or `replica; name="replica-1"; lag=0.4`.
    public var headerValue: String {
        switch source {
        case .primary: "primary"
        case .replica: "replica; name=\"\(replica ?? "")\"; lag=\(Self.rounded(lagSeconds))"
        }
    }

    /// Lag rounded to a tenth of a second: finer is noise between two probes.
    public static func rounded(_ seconds: Double) -> Double {
        (max(0, seconds) * 10).rounded() / 10
    }
}
