import Crypto
import Foundation

/// Signs shared-link tokens: `<link id>.<expiry unix seconds>.<hex HMAC-SHA256>`. The token names a link,
/// never a tenant: the link's tenant is looked up server-side, so a link always opens for the tenant that
/// created it.
public struct SharedLinkSigner: Sendable {
    private let key: SymmetricKey

    public init(keyHex: String) throws(TenantScopeError) {
        var bytes: [UInt8] = []
        var index = keyHex.startIndex
        while index < keyHex.endIndex {
            let next = keyHex.index(index, offsetBy: 2, limitedBy: keyHex.endIndex) ?? keyHex.endIndex
            guard let byte = UInt8(keyHex[index..<next], radix: 16) else { throw .environment("the shared-link key is not hex") }
            bytes.append(byte)
            index = next
        }
        guard bytes.count >= 32 else { throw .environment("the shared-link key is shorter than 32 bytes") }
        key = SymmetricKey(data: bytes)
    }

    public func token(link: UUID, expires: Date) -> String {
        let payload = "\(link.uuidString.lowercased()).\(Int(expires.timeIntervalSince1970))"
        return payload + "." + mac(payload)
    }

    /// The link id of a genuine, unexpired token; nil otherwise.
    public func link(fromToken token: String, now: Date = Date()) -> UUID? {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let id = UUID(uuidString: String(parts[0])), let expiry = Int(parts[1]),
              let given = Data(hexString: String(parts[2])),
              HMAC<SHA256>.isValidAuthenticationCode(given, authenticating: Data("\(parts[0]).\(parts[1])".utf8), using: key),
              Double(expiry) > now.timeIntervalSince1970
        else { return nil }
        return id
    }

    private func mac(_ payload: String) -> String {
        HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key).map { String(format: "%02x", $0) }.joined()
    }
}

extension Data {
    init?(hexString: String) {
        guard hexString.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        var index = hexString.startIndex
        while index < hexString.endIndex {
            let next = hexString.index(index, offsetBy: 2)
            guard let byte = UInt8(hexString[index..<next], radix: 16) else { return nil }
            bytes.append(byte)
            index = next
        }
        self.init(bytes)
    }
}
