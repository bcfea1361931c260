import Crypto
import Foundation

/// Signs export download links: `<job id>.<tenant id>.<expiry unix seconds>.<hex HMAC-SHA256>`.
///
/// The token names the job and the tenant it belongs to; the download re-checks both at request time
/// (the job exists in that tenant's scope, is done, not revoked or expired), so a genuine token for a
/// revoked job, or for a deleted tenant, opens nothing. The key is derived from the shared-link key with
/// its own label, so a shared-link token can never pass as a download token or the other way round.
public struct ExportLinkSigner: Sendable {
    /// The longest a link lives (the promise; a status read signs a fresh one).
    public static let lifetime: TimeInterval = 24 * 3600

    private let key: SymmetricKey

    public init(linkKeyHex: String) throws(TenantScopeError) {
        guard let bytes = Hex.decode(linkKeyHex), bytes.count >= 32 else {
            throw .environment("the link key must be at least 32 bytes of hex")
        }
        let derived = HMAC<SHA256>.authenticationCode(for: Data("tenantscope export download v1".utf8), using: SymmetricKey(data: bytes))
        key = SymmetricKey(data: Data(derived))
    }

    /// What a verified token says.
    public struct Claim: Sendable, Hashable {
        public let job: UUID
        public let tenant: TenantID
        public let expires: Date
    }

    /// Why a token does not open anything.
    public enum Refusal: Error, Sendable, Hashable {
        /// Not a token this signer wrote (or altered): answered as 404, saying nothing about any job.
        case invalid
        /// Genuine, but past its expiry: 410.
        case expired
    }

    public func token(job: UUID, tenant: TenantID, expires: Date) -> String {
        let payload = "\(job.uuidString.lowercased()).\(tenant).\(Int(expires.timeIntervalSince1970))"
        return payload + "." + Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key))
    }

    /// The claim of a genuine, unexpired token. Only the exact text this signer writes verifies.
    public func verify(_ token: String, now: Date) throws(Refusal) -> Claim {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4, let job = UUIDText.parse(parts[0]), parts[0] == job.uuidString.lowercased(),
              let tenant = TenantID(uuidString: parts[1]), parts[1] == tenant.description,
              let expiry = Int(parts[2]), parts[2] == String(expiry),
              let given = Hex.decode(parts[3]), parts[3] == Hex.encode(given),
              HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("\(parts[0]).\(parts[1]).\(parts[2])".utf8), using: key)
        else { throw .invalid }
        let expires = Date(timeIntervalSince1970: TimeInterval(expiry))
        guard expires > now else { throw .expired }
        return Claim(job: job, tenant: tenant, expires: expires)
    }
}
