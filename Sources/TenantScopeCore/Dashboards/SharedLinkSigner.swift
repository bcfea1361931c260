import Crypto
import Foundation

/// Signs shared-link tokens: `<link id>.<expiry unix seconds>.<hex HMAC-SHA256>`. The token names a link,
/// never a tenant: the link's tenant is looked up server-side, so a link always opens for the tenant that
/// created it.
public struct SharedLinkSigner: Sendable {
    private let key: SymmetricKey

    public init(keyHex: String) throws(TenantScopeError) {
        guard let bytes = Hex.decode(keyHex) else { throw .environment("the shared-link key is not hex") }
        guard bytes.count >= 32 else { throw .environment("the shared-link key is shorter than 32 bytes") }
        key = SymmetricKey(data: bytes)
    }

    public func token(link: UUID, expires: Date) -> String {
        let payload = "\(link.uuidString.lowercased()).\(Int(expires.timeIntervalSince1970))"
        return payload + "." + mac(payload)
    }

    /// The link id of a genuine, unexpired token; nil otherwise.
    ///
    /// Only the exact text this signer writes is accepted (lower-case id and hex, the expiry as plain
    /// digits): one link has one token, never several spellings that all verify.
    public func link(fromToken token: String, now: Date = Date()) -> UUID? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let id = UUIDText.parse(parts[0]), let expiry = Int(parts[1]),
              parts[0] == id.uuidString.lowercased(), parts[1] == String(expiry),
              let given = Hex.decode(String(parts[2])), parts[2] == Hex.encode(given),
              HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: key),
              Double(expiry) > now.timeIntervalSince1970
        else { return nil }
        return id
    }

    private func mac(_ payload: String) -> String {
        Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key))
    }
}
