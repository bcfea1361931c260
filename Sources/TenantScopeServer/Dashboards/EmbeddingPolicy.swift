import Foundation
import HTTPTypes
import Hummingbird

/// Where dashboards may be framed, and how session cookies are set.
public struct EmbeddingPolicy: Sendable {
    /// Origins allowed to frame the dashboards (`Content-Security-Policy: frame-ancestors`).
    public var allowedOrigins: [String]
    /// Set cookies `Secure; SameSite=None` (needed for cross-site iframes) even without `X-Forwarded-Proto: https`.
    public var alwaysSecure: Bool

    public init(allowedOrigins: [String] = [], alwaysSecure: Bool = false) {
        self.allowedOrigins = allowedOrigins
        self.alwaysSecure = alwaysSecure
    }

    var contentSecurityPolicy: String {
        let ancestors = (["'self'"] + allowedOrigins).joined(separator: " ")
        return "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors \(ancestors)"
    }

    func isSecure(_ request: Request) -> Bool {
        alwaysSecure || request.headers[HTTPField.Name("X-Forwarded-Proto")!]?.lowercased() == "https"
    }

    func cookie(name: String, value: String, expires: Date, request: Request) -> String {
        let maxAge = max(0, Int(expires.timeIntervalSinceNow))
        let attributes = isSecure(request) ? "Secure; SameSite=None" : "SameSite=Lax"
        return "\(name)=\(value); Path=/; Max-Age=\(maxAge); HttpOnly; \(attributes)"
    }
}
