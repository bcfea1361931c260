import Foundation
import JWTKit
import TenantScopeCore

/// Signs tokens with an HS256 secret: what `tenantscope token` does, and what a platform's backend does
/// with any JWT library (claims in docs/tokens.md).
public struct TokenIssuer: Sendable {
    let keys: JWTKeyCollection
    let kid: String
    let issuer: String

    public init(hs256Secret: [UInt8], kid: String, issuer: String) async {
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: hs256Secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        self.keys = keys
        self.kid = kid
        self.issuer = issuer
    }

    public func tenantToken(
        subject: String, tenant: TenantID, role: TenantUser.Role, audience: String,
        lifetime: Duration, attributes: [String: String] = [:], jti: String = UUID().uuidString.lowercased(), now: Date = Date()
    ) async throws -> String {
        try await keys.sign(TokenPayload(
            sub: .init(value: subject), exp: .init(value: now.addingTimeInterval(Double(lifetime.components.seconds))),
            iat: .init(value: now), nbf: nil, aud: .init(value: [audience]), iss: .init(value: issuer),
            jti: .init(value: jti), tenant_id: tenant.description, role: role.rawValue,
            user_attributes: attributes.isEmpty ? nil : attributes
        ), kid: JWKIdentifier(string: kid))
    }

    public func platformToken(operator name: String, audience: String, lifetime: Duration, now: Date = Date()) async throws -> String {
        try await keys.sign(TokenPayload(
            sub: .init(value: name), exp: .init(value: now.addingTimeInterval(Double(lifetime.components.seconds))),
            iat: .init(value: now), nbf: nil, aud: .init(value: [audience]), iss: .init(value: issuer),
            jti: .init(value: UUID().uuidString.lowercased()), tenant_id: nil, role: "platform_admin", user_attributes: nil
        ), kid: JWKIdentifier(string: kid))
    }
}
