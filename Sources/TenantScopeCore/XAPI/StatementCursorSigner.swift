import Crypto
import Foundation

/// Seals and opens the xAPI `more` cursor: `base64url(JSON of the filter and position).<hex HMAC-SHA256>`,
/// the MAC over the tenant and the payload.
///
/// A cursor grants nothing by itself (the next page runs in the requester's own scope), but an unsigned
/// one was decoded wholesale from client input and reached SQL casts. Signed, a cursor is either exactly
/// what this server wrote for this tenant, or a 400.
public struct StatementCursorSigner: Sendable {
    private let key: SymmetricKey

    /// - Parameter keyHex: a server secret (the shared-link key); the cursor key is derived from it, so
    ///   neither MAC can stand in for the other.
    public init(keyHex: String) throws(TenantScopeError) {
        guard let bytes = Hex.decode(keyHex), bytes.count >= 32 else { throw .environment("the cursor key must be at least 32 bytes of hex") }
        let derived = HMAC<SHA256>.authenticationCode(for: Data("tenantscope:xapi-more-cursor".utf8), using: SymmetricKey(data: bytes))
        key = SymmetricKey(data: Data(derived))
    }

    public func seal(_ filter: StatementFilter, tenant: TenantID) -> String {
        let payload = Base64URL.encode((try? JSONEncoder().encode(filter)) ?? Data())
        return payload + "." + mac(payload, tenant: tenant)
    }

    public func open(_ cursor: String, tenant: TenantID) throws(TenantScopeError) -> StatementFilter {
        let refusal = TenantScopeError.invalidInput("more is not a cursor this server issued")
        let parts = cursor.split(separator: ".", omittingEmptySubsequences: false)
        guard cursor.utf8.count < 8192, parts.count == 2, let given = Hex.decode(String(parts[1])), given.count == 32,
              HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data(("\(tenant)|" + parts[0]).utf8), using: key),
              let data = Base64URL.decode(String(parts[0])),
              let filter = try? JSONDecoder().decode(StatementFilter.self, from: data), filter.isWithinBounds
        else { throw refusal }
        return filter
    }

    private func mac(_ payload: String, tenant: TenantID) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(("\(tenant)|" + payload).utf8), using: key))
    }
}
