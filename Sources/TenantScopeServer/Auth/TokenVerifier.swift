import Foundation
import JWTKit
import TenantScopeCore

/// Verifies tenant and platform tokens into a ``Principal``; every refusal is an ``AuthenticationError``.
public struct TokenVerifier: Sendable {
    public struct Configuration: Sendable {
        public var issuer: String
        public var tenantAudience: String
        public var platformAudience: String
        /// Tokens living longer than this (from `iat`, or from now when absent) are refused.
        public var maximumLifetime: Duration
        /// Clock skew tolerated on `exp`, `nbf` and `iat`.
        public var leeway: Duration

        public init(
            issuer: String = "tenantscope", tenantAudience: String = "tenantscope",
            platformAudience: String = "tenantscope-platform",
            maximumLifetime: Duration = .seconds(24 * 3600), leeway: Duration = .seconds(30)
        ) {
            self.issuer = issuer
            self.tenantAudience = tenantAudience
            self.platformAudience = platformAudience
            self.maximumLifetime = maximumLifetime
            self.leeway = leeway
        }
    }

    public enum Surface: Sendable {
        case tenant, platform
    }

    public let configuration: Configuration
    let tenantKeys: TokenKeySet
    let platformKeys: TokenKeySet
    /// Answers whether a `jti` has been revoked.
    let isRevoked: @Sendable (String) async throws -> Bool

    public init(
        configuration: Configuration, tenantKeys: TokenKeySet, platformKeys: TokenKeySet,
        isRevoked: @escaping @Sendable (String) async throws -> Bool = { _ in false }
    ) {
        self.configuration = configuration
        self.tenantKeys = tenantKeys
        self.platformKeys = platformKeys
        self.isRevoked = isRevoked
    }

    public func verify(_ token: String, for surface: Surface, now: Date = Date()) async throws(AuthenticationError) -> Principal {
        try await verifiedSession(token, for: surface, now: now).principal
    }

    /// Verifies like ``verify(_:for:now:)`` and also returns the token's expiry (a dashboard session
    /// exchanged for the token must not outlive it).
    public func verifiedSession(_ token: String, for surface: Surface, now: Date = Date()) async throws(AuthenticationError)
        -> (principal: Principal, expires: Date) {
        let payload = try await verifiedPayload(token, keys: surface == .tenant ? tenantKeys : platformKeys)
        let leeway = Double(configuration.leeway.components.seconds)
        let audience = surface == .tenant ? configuration.tenantAudience : configuration.platformAudience

        guard payload.exp.value.timeIntervalSince(now) > -leeway else { throw .expired }
        if let nbf = payload.nbf, nbf.value.timeIntervalSince(now) > leeway { throw .notYetValid }
        if let iat = payload.iat, iat.value.timeIntervalSince(now) > leeway { throw .notYetValid }
        let lifetime = payload.exp.value.timeIntervalSince(payload.iat?.value ?? now)
        guard lifetime <= Double(configuration.maximumLifetime.components.seconds) + leeway else { throw .tooLongLived }
        guard payload.aud.value.contains(audience) else { throw .wrongAudience }
        guard payload.iss.value == configuration.issuer else { throw .wrongIssuer }
        let subject = payload.sub.value.trimmingCharacters(in: .whitespaces)
        guard !subject.isEmpty, subject.count <= 200 else { throw .badClaims }
        if let jti = payload.jti?.value {
            let revoked: Bool
            do { revoked = try await isRevoked(jti) } catch { throw AuthenticationError("token revocation could not be checked") }
            if revoked { throw .revoked }
        }

        switch surface {
        case .tenant:
            guard let tenantText = payload.tenant_id, let tenant = TenantID(uuidString: tenantText),
                  let role = TenantUser.Role(rawValue: payload.role)
            else { throw .badClaims }
            return (.tenantUser(TenantUser(subject: subject, tenant: tenant, role: role, attributes: payload.user_attributes ?? [:])), payload.exp.value)
        case .platform:
            guard payload.role == "platform_admin", payload.tenant_id == nil else { throw .badClaims }
            return (.platformAdmin(operator: subject), payload.exp.value)
        }
    }

    private func verifiedPayload(_ token: String, keys: TokenKeySet) async throws(AuthenticationError) -> TokenPayload {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.count <= 8192,
              let headerData = Self.base64URLDecode(parts[0]),
              let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any],
              let algorithm = header["alg"] as? String
        else { throw .malformed }
        guard algorithm.lowercased() != "none", !parts[2].isEmpty else { throw .unsigned }
        let kid = header["kid"] as? String
        let key = try keys.key(kid: kid)
        guard key.algorithm == algorithm else { throw .algorithmMismatch }
        do {
            return try await key.collection.verify(token, as: TokenPayload.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .badSignature
        } catch {
            // Missing required claims or wrong claim types: the token is not one of ours.
            throw .malformed
        }
    }

    static func base64URLDecode(_ part: Substring) -> Data? {
        var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text)
    }
}
