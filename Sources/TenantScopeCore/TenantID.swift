import Foundation

/// The identity of one tenant (an organization on the learning platform).
///
/// A `TenantID` only ever comes from a verified credential or from the tenant directory;
/// it is never parsed out of a request's URL, query string or body.
public struct TenantID: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: UUID

    public init(_ rawValue: UUID) {
        self.rawValue = rawValue
    }

    public init?(uuidString: String) {
        guard let uuid = UUIDText.parse(uuidString) else { return nil }
        self.rawValue = uuid
    }

    /// Lower-case canonical form, as PostgreSQL prints a `uuid`.
    public var description: String { rawValue.uuidString.lowercased() }
}
