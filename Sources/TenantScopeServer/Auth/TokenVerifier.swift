import Foundation
import JWTKit
import Logging
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

        /// How long after its revocation a token could still pass every other check, and so how long revocations
        /// must be kept (the credential cache's horizon): a token's `iat` may be a leeway ahead of the clock, its
        /// lifetime a leeway over the maximum, and its `exp` is honoured for a leeway after it passed.
        public var revocationHorizon: Duration { maximumLifetime + leeway * 3 }
    }

    /// A verified token: the principal and what a dashboard session exchanged for it must keep.
    public struct Verified: Sendable {
        public var principal: Principal
        public var expires: Date
        public var jti: String?
    }

    public let configuration: Configuration
    /// The longest `sub` in UTF-8 bytes: what an audit row's actor may hold.
    static let maximumSubjectBytes = 400
    let tenantKeys: TokenKeySet
    let platformKeys: TokenKeySet
    /// Whether the token's tenant still exists and its `jti` is not revoked.
    let status: any CredentialStatus

    public init(configuration: Configuration, tenantKeys: TokenKeySet, platformKeys: TokenKeySet, status: any CredentialStatus) {
        self.configuration = configuration
        self.tenantKeys = tenantKeys
        self.platformKeys = platformKeys
        self.status = status
    }

    /// Verifies a token of either surface, once: the surface is the one whose key set holds the token's
    /// `kid` (or, for a token without one, the one its `aud` names), and the token must then pass every
    /// rule of that surface. Which routes the principal may use is ``ScopePolicy``'s decision, not this one's.
    public func verify(_ token: String, now: Date = Date(), logger: Logger = TokenVerifier.silentLogger) async throws -> Principal {
        let read = try ReadToken(token)
        return try await verified(read, for: surface(of: read), now: now, logger: logger).principal
    }

    /// Verifies a token that must belong to `surface` (an embed link names its dashboard's surface).
    public func verify(_ token: String, for surface: Surface, now: Date = Date(), logger: Logger = TokenVerifier.silentLogger)
        async throws -> Principal {
        try await verified(token, for: surface, now: now, logger: logger).principal
    }

    /// Verifies like ``verify(_:for:now:logger:)`` and also returns the token's expiry and `jti` (a
    /// dashboard session exchanged for the token must not outlive it, and ends when it is revoked).
    ///
    /// Throws ``AuthenticationError`` for a token that does not stand, and ``CredentialStateUnavailable``
    /// when whether it stands cannot be known.
    public func verified(_ token: String, for surface: Surface, now: Date = Date(), logger: Logger = TokenVerifier.silentLogger)
        async throws -> Verified {
        try await verified(ReadToken(token), for: surface, now: now, logger: logger)
    }

    private func verified(_ token: ReadToken, for surface: Surface, now: Date, logger: Logger) async throws -> Verified {
        let payload = try await verifiedPayload(token, keys: keys(for: surface))
        let leeway = Double(configuration.leeway.components.seconds)
        let audience = surface == .tenant ? configuration.tenantAudience : configuration.platformAudience

        guard payload.exp.value.timeIntervalSince(now) > -leeway else { throw AuthenticationError.expired }
        if let nbf = payload.nbf, nbf.value.timeIntervalSince(now) > leeway { throw AuthenticationError.notYetValid }
        if let iat = payload.iat, iat.value.timeIntervalSince(now) > leeway { throw AuthenticationError.notYetValid }
        let lifetime = payload.exp.value.timeIntervalSince(payload.iat?.value ?? now)
        guard lifetime <= Double(configuration.maximumLifetime.components.seconds) + leeway else { throw AuthenticationError.tooLongLived }
        guard payload.aud.value.contains(audience) else { throw AuthenticationError.wrongAudience }
        guard payload.iss.value == configuration.issuer else { throw AuthenticationError.wrongIssuer }
        let subject = payload.sub.value.trimmingCharacters(in: .whitespaces)
        guard Self.acceptsSubject(subject) else { throw AuthenticationError.badClaims }

        let principal: Principal
        switch surface {
        case .tenant:
            guard let tenantText = payload.tenant_id, let tenant = TenantID(uuidString: tenantText),
                  let role = TenantUser.Role(rawValue: payload.role)
            else { throw AuthenticationError.badClaims }
            principal = .tenantUser(TenantUser(subject: subject, tenant: tenant, role: role, attributes: payload.user_attributes ?? [:]))
        case .platform:
            guard payload.role == "platform_admin", payload.tenant_id == nil else { throw AuthenticationError.badClaims }
            principal = .platformAdmin(operator: subject)
        }
        let tenant: TenantID? = if case .tenantUser(let user) = principal { user.tenant } else { nil }
        switch try await status.refusal(jti: payload.jti?.value, tenant: tenant, logger: logger) {
        case .revokedToken?, .revokedSession?: throw AuthenticationError.revoked
        case .unknownTenant?: throw AuthenticationError.unknownTenant
        case nil: return Verified(principal: principal, expires: payload.exp.value, jti: payload.jti?.value)
        }
    }

    /// Whether a token's subject (spaces and tabs trimmed) stands. `lrs-key:` subjects are what LRS credentials act as; a
    /// token may not claim to be one. The subject is the audit rows' actor, which holds at most 400 bytes
    /// (`app.append_signed_audit`): a longer one would fail every audited request with a 500 instead of a 401. A control
    /// character or line separator anywhere is refused too: a leading line break slipped past the `lrs-key:` rule, and
    /// the actor went verbatim into every view of the log. `tenantscope token` checks the same before it mints one.
    public static func acceptsSubject(_ subject: String) -> Bool {
        !subject.isEmpty && subject.count <= 200 && subject.utf8.count <= maximumSubjectBytes && !subject.hasPrefix("lrs-key:")
            && !subject.unicodeScalars.contains(where: \.isControlOrLineSeparator)
    }

    /// A logger that drops everything, for callers outside a request.
    public static let silentLogger = Logger(label: "tenantscope.tokens", factory: { _ in SwiftLogNoOpLogHandler() })

    private func keys(for surface: Surface) -> TokenKeySet {
        surface == .tenant ? tenantKeys : platformKeys
    }

    /// The surface a token claims: its `kid`'s key set, or without a `kid` the surface its audience names.
    /// Only a selector: the token is then verified against that surface's keys, audience and claims.
    private func surface(of token: ReadToken) throws(AuthenticationError) -> Surface {
        if let kid = token.header.kid {
            if tenantKeys.contains(kid: kid) { return .tenant }
            if platformKeys.contains(kid: kid) { return .platform }
            throw .unknownKey
        }
        let audience = try token.audience()
        switch (audience.contains(configuration.tenantAudience), audience.contains(configuration.platformAudience)) {
        case (true, false): return .tenant
        case (false, true): return .platform
        default: throw .wrongAudience
        }
    }

    private func verifiedPayload(_ token: ReadToken, keys: TokenKeySet) async throws(AuthenticationError) -> TokenPayload {
        guard let algorithm = token.header.alg else { throw .malformed }
        guard algorithm.lowercased() != "none", !token.text.hasSuffix(".") else { throw .unsigned }
        let key = try keys.key(kid: token.header.kid)
        guard key.algorithm == algorithm else { throw .algorithmMismatch }
        do {
            return try await key.collection.verify(token.text, as: TokenPayload.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .badSignature
        } catch {
            // Missing required claims or wrong claim types: the token is not one of ours.
            throw .malformed
        }
    }

    /// A token read once, before any key is tried: its header, by jwt-kit's own parser and decoder (the ones
    /// that verify it), and its still unverified claims.
    ///
    /// Header and claims are checked for a property given twice: Foundation's decoder behind jwt-kit keeps one of
    /// them, another JWT library may keep the other, and a token must mean one thing.
    private struct ReadToken {
        let text: String
        let header: JWTHeader
        let claims: Data

        init(_ token: String) throws(AuthenticationError) {
            guard token.utf8.count <= 8192 else { throw .malformed }
            let parser = DefaultJWTParser()
            do {
                let parts = try parser.getTokenParts(Array(token.utf8))
                guard let header = Base64URL.decode(Substring(decoding: parts.header, as: UTF8.self)),
                      let claims = Base64URL.decode(Substring(decoding: parts.payload, as: UTF8.self))
                else { throw AuthenticationError.malformed }
                _ = try JSONParser.parse(header, refusingDuplicateKeys: true)
                _ = try JSONParser.parse(claims, refusingDuplicateKeys: true)
                self.header = try parser.jsonDecoder.decode(JWTHeader.self, from: header)
                self.claims = claims
                self.text = token
            } catch {
                throw .malformed
            }
            // RFC 7515 4.1.11: a token whose `crit` names extensions the recipient does not understand must be refused, and
            // this server understands none. (`jku`, `x5u`, `jwk` and `x5c` are ignored, never followed: the key is always
            // one of the configured ones, chosen by `kid`.)
            guard header.fields["crit"] == nil else { throw .criticalExtension }
        }

        private struct AudienceOnly: Decodable {
            var aud: AudienceClaim
        }

        /// The audience the (not yet verified) claims name; only used to pick a key set.
        func audience() throws(AuthenticationError) -> [String] {
            do {
                return try DefaultJWTParser().jsonDecoder.decode(AudienceOnly.self, from: claims).aud.value
            } catch {
                throw .malformed
            }
        }
    }
}
