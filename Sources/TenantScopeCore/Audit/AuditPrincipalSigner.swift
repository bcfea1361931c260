import Crypto
import Foundation

/// Signs the principal of an audit append, so the database can check who an entry is attributed to.
///
/// `app.append_signed_audit` takes `<hex actor>.<kind>.<expiry unix seconds>.<hex HMAC-SHA256>` and
/// recomputes the MAC of `audit:<hex actor>.<kind>.<expiry>` with the tenant-context key, which only the
/// server and the owner hold. The `audit:` prefix keeps an audit principal and a tenant context from
/// ever being valid as each other.
public struct AuditPrincipalSigner: Sendable {
    /// Who an audit row is attributed to.
    public enum Kind: String, Sendable, CaseIterable {
        case tenantUser = "tenant_user"
        case platformAdmin = "platform_admin"
        case `operator`
        case system
    }

    private let key: SymmetricKey

    /// - Parameter keyHex: the tenant-context key (hex), as `app.runtime_keys()` returns it.
    public init(keyHex: String) throws(TenantScopeError) {
        guard let bytes = Hex.decode(keyHex), bytes.count >= 32 else {
            throw .environment("the audit signing key must be at least 32 bytes of hex")
        }
        self.key = SymmetricKey(data: bytes)
    }

    /// The signed principal for `actor` of `kind`, valid until `expiresAt`.
    public func principal(actor: String, kind: Kind, expiresAt: Date) -> String {
        let payload = Hex.encode(actor.utf8) + "." + kind.rawValue + "." + String(Int64(expiresAt.timeIntervalSince1970.rounded(.down)))
        let mac = HMAC<SHA256>.authenticationCode(for: Data(("audit:" + payload).utf8), using: key)
        return payload + "." + Hex.encode(mac)
    }
}
