import PostgresNIO

/// A tenant transaction the tenant gate (migrations 28 and 51) refused: the tenant's data is not on the cluster it
/// was routed to (this process had not yet seen a move, or the tenant was just deleted), or a move holds the tenant's
/// writes. Nothing
/// happened; the request is to be repeated shortly (503 with `Retry-After`), when it reaches the right cluster.
public struct TenantRelocating: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: Sendable, Hashable {
        /// SQLSTATE TSM01: the data is on another cluster.
        case notHere
        /// SQLSTATE TSM02: a move holds the tenant's writes.
        case moving
        /// SQLSTATE TSM03: this database has no row for the tenant: it was deleted a moment ago (the credential check
        /// of the retry refuses it), or it was never placed here (the retry reaches its cluster).
        case absent
    }

    public let reason: Reason

    public var description: String {
        switch reason {
        case .notHere: "the tenant's data is on another cluster"
        case .moving: "the tenant is being moved to another cluster"
        case .absent: "the tenant does not exist on this cluster"
        }
    }

    /// The gate's refusal in `error`, if it is one (already turned into this type by a dedicated cluster's helper).
    static func from(_ error: any Error) -> TenantRelocating? {
        if let refusal = error as? TenantRelocating { return refusal }
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        switch error.serverInfo?[.sqlState] {
        case "TSM01": return TenantRelocating(reason: .notHere)
        case "TSM02": return TenantRelocating(reason: .moving)
        case "TSM03": return TenantRelocating(reason: .absent)
        default: return nil
        }
    }
}
