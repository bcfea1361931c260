/// The limits one tenant's requests run under: its tier's, with the tenant's own overrides applied.
///
/// A tier (free, standard, enterprise, or one an operator adds) names a set of limits; a tenant may override
/// its concurrency and rates. The connection budget belongs to the tier as a whole: every tenant of the tier
/// shares it, so the tenants of one tier together cannot hold more of the pool than the tier is given.
/// `nil` means no limit of that kind.
public struct TenantLimits: Sendable, Hashable {
    /// The tier these limits come from.
    public var tier: String
    /// Report, SQL, MCP and dashboard requests of this tenant that run at once (per server process).
    public var concurrency: Int?
    /// Report, SQL, MCP and dashboard requests that all tenants of the tier run at once (per server process).
    public var connectionBudget: Int?
    /// Requests per second on the API (bearer tokens and dashboard sessions).
    public var api: RatePolicy?
    /// Units per second on the LRS (xAPI statements and documents, product events): one per request, and one
    /// per statement or event beyond the first in a batch.
    public var ingest: RatePolicy?

    public init(tier: String, concurrency: Int? = nil, connectionBudget: Int? = nil, api: RatePolicy? = nil, ingest: RatePolicy? = nil) {
        self.tier = tier
        self.concurrency = concurrency
        self.connectionBudget = connectionBudget
        self.api = api
        self.ingest = ingest
    }

    /// The limits of a tenant the server has no limits for yet (created after the last reload): the
    /// `standard` tier's defaults as migration 25 creates them, so a new tenant is never unlimited.
    public static let newTenantDefault = TenantLimits(
        tier: "standard", concurrency: 4, connectionBudget: nil,
        api: RatePolicy(perSecond: 20, burst: 100), ingest: RatePolicy(perSecond: 200, burst: 2000))

    /// Which of the two rate policies a request falls under.
    public enum Surface: String, Sendable, Hashable {
        case api
        case ingest
    }

    public func rate(for surface: Surface) -> RatePolicy? {
        switch surface {
        case .api: api
        case .ingest: ingest
        }
    }
}

/// A token bucket's shape: `burst` requests at once, refilled at `perSecond`.
public struct RatePolicy: Sendable, Hashable {
    public var perSecond: Double
    public var burst: Int

    public init(perSecond: Double, burst: Int) {
        self.perSecond = perSecond
        self.burst = burst
    }

    /// The seconds an empty bucket takes to fill: the window of `RateLimit-Policy`.
    public var windowSeconds: Int { WholeSeconds.roundedUp(Double(burst) / perSecond) }
}
