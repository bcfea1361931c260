import Crypto
import Foundation

/// Signs the tenant context the server hands to PostgreSQL.
///
/// The server sets `app.tenant_ctx = <tenant uuid>.<expiry unix seconds>.<hex HMAC-SHA256>` with a
/// transaction-scoped `set_config`, and the row-level-security policy function `app.current_tenant()`
/// recomputes the MAC with a key only the table owner can read. A value forged by anyone without the
/// key (even with `set_config` somehow regained) raises an error instead of switching tenant.
public struct TenantContextSigner: Sendable {
    private let key: SymmetricKey

    /// - Parameter keyHex: the hex-encoded key stored by the migrations in `app_private.settings`.
    public init(keyHex: String) throws(TenantScopeError) {
        guard let bytes = Hex.decode(keyHex), bytes.count >= 32 else {
            throw .environment("tenant context key must be at least 32 bytes of hex")
        }
        self.key = SymmetricKey(data: bytes)
    }

    /// The signed context for `tenant`, valid for transactions that start before `expiresAt`.
    public func context(for tenant: TenantID, expiresAt: Date) -> String {
        let payload = "\(tenant).\(Int64(expiresAt.timeIntervalSince1970.rounded(.down)))"
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Hex.encode(mac)
    }
}
