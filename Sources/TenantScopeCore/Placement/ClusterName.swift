/// The name of a PostgreSQL cluster tenants can be placed on: `pool` (the shared pool, the database the
/// server is configured with) or a dedicated cluster added with `tenantscope cluster add`.
public struct ClusterName: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// The shared pool: where every tenant lives unless placed elsewhere.
    public static let pool = ClusterName(unchecked: "pool")

    /// Validates a name: 2–32 lower-case letters, digits and `-`, starting with a letter, not ending with `-`.
    public init(_ rawValue: String) throws(TenantScopeError) {
        guard LowercaseName.isValid(rawValue, lengths: 2...32) else {
            throw .invalidInput("cluster name '\(rawValue)' is invalid: use 2-32 lower-case letters, digits or '-', starting with a letter")
        }
        self.rawValue = rawValue
    }

    private init(unchecked rawValue: String) {
        self.rawValue = rawValue
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        self = try ClusterName(text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    public var isPool: Bool { self == .pool }
    public var description: String { rawValue }
}
