import Crypto
import Foundation

/// Seals and opens ``DashboardSession`` values: `base64url(JSON).base64url(HMAC-SHA256)`.
public struct DashboardSessionSigner: Sendable {
    private let key: SymmetricKey

    public init(key: [UInt8]) throws(TenantScopeError) {
        guard key.count >= 32 else { throw .invalidInput("the session key must be at least 32 bytes") }
        self.key = SymmetricKey(data: key)
    }

    /// A signer with a fresh random key: sessions then last as long as the process.
    public static func random() -> DashboardSessionSigner {
        var generator = SystemRandomNumberGenerator()
        return try! DashboardSessionSigner(key: (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
    }

    public func seal(_ session: DashboardSession) -> String {
        let payload = Base64URL.encode((try? JSONEncoder().encode(session)) ?? Data())
        let mac = HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key)
        return payload + "." + Base64URL.encode(Data(mac))
    }

    /// The session, or nil when the value is forged, malformed or expired.
    public func open(_ value: String, now: Date = Date()) -> DashboardSession? {
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let mac = Base64URL.decode(String(parts[1])),
              HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: Data(parts[0].utf8), using: key),
              let json = Base64URL.decode(String(parts[0])),
              let session = try? JSONDecoder().decode(DashboardSession.self, from: json),
              Double(session.expires) > now.timeIntervalSince1970
        else { return nil }
        return session
    }

    /// A form token bound to the session (double-submit protection for the dashboard's POST forms, which
    /// cross-site iframes on HTTPS must send with `SameSite=None` cookies).
    public func formToken(for session: DashboardSession) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let payload = Data("form:".utf8) + ((try? encoder.encode(session)) ?? Data())
        return Base64URL.encode(Data(HMAC<SHA256>.authenticationCode(for: payload, using: key)))
    }
}
