import Crypto
import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopeServer

/// Every way a token can be wrong gets 401 with a reason; the happy paths give the right principal.
@Suite struct TokenVerifierTests {
    static let tenantSecret = Array("tenant-secret-for-tests-0123456789abcdef".utf8)
    static let platformSecret = Array("platform-secret-for-tests-0123456789abcdef".utf8)
    let tenant = TenantID(uuidString: "0b7c2f9e-8d1a-4c55-9f3e-2a6b1c4d5e6f")!
    let now = Date()

    func verifier(revoked: Set<String> = []) async throws -> TokenVerifier {
        TokenVerifier(
            configuration: .init(issuer: "tenantscope", maximumLifetime: .seconds(3600), leeway: .seconds(30)),
            tenantKeys: try await TokenKeySet().adding(hs256Secret: Self.tenantSecret, kid: "t1"),
            platformKeys: try await TokenKeySet().adding(hs256Secret: Self.platformSecret, kid: "p1"),
            status: FixedCredentialStatus(tenants: [tenant], revoked: revoked)
        )
    }

    /// Builds a token by hand, so tests can produce what no well-behaved library would.
    func craft(header: JSONObject = ["alg": "HS256", "typ": "JWT", "kid": "t1"], claims: JSONObject? = nil,
               secret: [UInt8] = tenantSecret, signature: String? = nil) -> String {
        let body = claims ?? self.claims([:])
        let encode = { (object: JSONObject) in Self.base64URL(Data(JSONValue.object(object).jsonText.utf8)) }
        let input = encode(header) + "." + encode(body)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + (signature ?? Self.base64URL(Data(mac)))
    }

    static func base64URL(_ data: Data) -> String { Base64URL.encode(data) }

    /// Valid claims with `changes` applied; a nil change removes the claim.
    func claims(_ changes: [String: JSONValue?]) -> JSONObject {
        var claims: JSONObject = [
            "sub": "user-1", "exp": JSONValue(Int(now.timeIntervalSince1970) + 600), "iat": JSONValue(Int(now.timeIntervalSince1970)),
            "aud": "tenantscope", "iss": "tenantscope", "tenant_id": .string(tenant.description), "role": "viewer",
        ]
        for (key, value) in changes { claims[key] = value }
        return claims
    }

    func expectRefused(_ token: String, _ surface: Surface = .tenant, _ reason: AuthenticationError) async throws {
        let verifier = try await verifier(revoked: ["revoked-jti"])
        await #expect(throws: reason) { try await verifier.verify(token, for: surface, now: now) }
    }

    @Test func aValidTenantTokenGivesATenantUser() async throws {
        let token = craft(claims: claims(["user_attributes": ["region": "EU"], "role": "admin"]))
        let principal = try await verifier().verify(token, for: .tenant, now: now)
        #expect(principal == .tenantUser(TenantUser(subject: "user-1", tenant: tenant, role: .admin, attributes: ["region": "EU"])))
    }

    /// Revocations are kept for the configuration's revocation horizon (the credential cache's): the longest-lived
    /// token the claims allow, revoked the moment it is made, still passes them just before the horizon ends and no
    /// longer after it. A horizon of the maximum lifetime alone dropped the revocation up to 90 s early.
    @Test func noTokenOutlivesTheRevocationHorizon() async throws {
        let verifier = try await verifier()
        let configuration = verifier.configuration
        let leeway = configuration.leeway.inSeconds
        let revokedAt = Int(now.timeIntervalSince1970)
        let iat = revokedAt + Int(leeway)
        let exp = iat + Int(configuration.maximumLifetime.inSeconds + leeway)
        let token = craft(claims: claims(["iat": JSONValue(iat), "exp": JSONValue(exp)]))
        let horizonEnds = Date(timeIntervalSince1970: Double(revokedAt) + configuration.revocationHorizon.inSeconds)
        _ = try await verifier.verify(token, for: .tenant, now: Date(timeIntervalSince1970: Double(revokedAt)))
        _ = try await verifier.verify(token, for: .tenant, now: horizonEnds.addingTimeInterval(-1))
        await #expect(throws: AuthenticationError.expired) {
            try await verifier.verify(token, for: .tenant, now: horizonEnds.addingTimeInterval(1))
        }
    }

    @Test func theIssuerRoundTripsThroughTheVerifier() async throws {
        let issuer = await TokenIssuer(hs256Secret: Self.tenantSecret, kid: "t1", issuer: "tenantscope")
        let token = try await issuer.tenantToken(subject: "s", tenant: tenant, role: .viewer, audience: "tenantscope", lifetime: .seconds(60))
        #expect(try await verifier().verify(token, for: .tenant) == .tenantUser(TenantUser(subject: "s", tenant: tenant, role: .viewer)))
        let platformIssuer = await TokenIssuer(hs256Secret: Self.platformSecret, kid: "p1", issuer: "tenantscope")
        let platform = try await platformIssuer.platformToken(operator: "alice", audience: "tenantscope-platform", lifetime: .seconds(60))
        #expect(try await verifier().verify(platform, for: .platform) == .platformAdmin(operator: "alice"))
    }

    @Test func malformedTokensAreRefused() async throws {
        for token in ["", "abc", "a.b", "a.b.c.d", "!!!.???.###", craft().replacingOccurrences(of: ".", with: "")] {
            try await expectRefused(token, .tenant, .malformed)
        }
    }

    @Test func missingRequiredClaimsAreRefused() async throws {
        for claim in ["exp", "sub", "aud", "iss", "role"] {
            try await expectRefused(craft(claims: claims([claim: nil])), .tenant, .malformed)
        }
        try await expectRefused(craft(claims: claims(["tenant_id": nil])), .tenant, .badClaims)
        try await expectRefused(craft(claims: claims(["tenant_id": "acme"])), .tenant, .badClaims)
        try await expectRefused(craft(claims: claims(["role": "owner"])), .tenant, .badClaims)
    }

    /// The subject becomes the audit rows' actor, which holds at most 400 bytes: a longer one (200 characters of three
    /// bytes each passed before) is refused here with a 401, instead of failing every audited request with a 500.
    @Test func aSubjectLongerThanAnAuditRowTakesIsRefused() async throws {
        try await expectRefused(craft(claims: claims(["sub": .string(String(repeating: "名", count: 134))])), .tenant, .badClaims)
        let longest = String(repeating: "名", count: 133)
        #expect(try await verifier().verify(craft(claims: claims(["sub": .string(longest)])), for: .tenant, now: now)
                == .tenantUser(TenantUser(subject: longest, tenant: tenant, role: .viewer)))
    }

    /// A subject with a control character or line separator anywhere is refused: a leading line break passed the
    /// `lrs-key:` rule (only spaces and tabs were trimmed), and the subject went verbatim into the audit log's views.
    @Test func aSubjectWithAControlCharacterOrLineBreakIsRefused() async throws {
        for subject in ["\nlrs-key:lrs_0123456789abcdef0123", "\r\nplatform_admin:alice", "ann\u{7F}", "ann\u{85}x",
                        "ann\u{2028}x", "ann\u{1B}[2J"] {
            try await expectRefused(craft(claims: claims(["sub": .string(subject)])), .tenant, .badClaims)
        }
        #expect(try await verifier().verify(craft(claims: claims(["sub": .string("  ann@example.com ")])), for: .tenant, now: now)
                == .tenantUser(TenantUser(subject: "ann@example.com", tenant: tenant, role: .viewer)))
    }

    @Test func expiredAndNotYetValidTokensAreRefused() async throws {
        try await expectRefused(craft(claims: claims(["exp": JSONValue(Int(now.timeIntervalSince1970) - 120)])), .tenant, .expired)
        try await expectRefused(craft(claims: claims(["nbf": JSONValue(Int(now.timeIntervalSince1970) + 300)])), .tenant, .notYetValid)
        // Inside the leeway an expired token still passes (clock skew).
        let justExpired = craft(claims: claims(["exp": JSONValue(Int(now.timeIntervalSince1970) - 10)]))
        _ = try await verifier().verify(justExpired, for: .tenant, now: now)
    }

    @Test func tokensLivingLongerThanTheMaximumAreRefused() async throws {
        try await expectRefused(craft(claims: claims(["exp": JSONValue(Int(now.timeIntervalSince1970) + 7200)])), .tenant, .tooLongLived)
        try await expectRefused(craft(claims: claims(["iat": nil, "exp": JSONValue(Int(now.timeIntervalSince1970) + 7200)])), .tenant, .tooLongLived)
    }

    @Test func wrongSignatureAndAlgNoneAreRefused() async throws {
        try await expectRefused(craft(secret: Array("some-other-secret-that-is-32-bytes-long!".utf8)), .tenant, .badSignature)
        try await expectRefused(craft(header: ["alg": "none", "typ": "JWT"], signature: ""), .tenant, .unsigned)
        try await expectRefused(craft(header: ["alg": "none", "typ": "JWT", "kid": "t1"], signature: "x"), .tenant, .unsigned)
        try await expectRefused(craft(header: ["alg": "NONE", "kid": "t1"], signature: ""), .tenant, .unsigned)
        try await expectRefused(craft(header: ["alg": "RS256", "kid": "t1"]), .tenant, .algorithmMismatch)
        try await expectRefused(craft(header: ["kid": "t1"]), .tenant, .malformed)
    }

    @Test func wrongAudienceOrIssuerIsRefused() async throws {
        try await expectRefused(craft(claims: claims(["aud": "someone-else"])), .tenant, .wrongAudience)
        try await expectRefused(craft(claims: claims(["aud": "tenantscope-platform"])), .tenant, .wrongAudience)
        try await expectRefused(craft(claims: claims(["iss": "evil"])), .tenant, .wrongIssuer)
    }

    @Test func unknownKeyIDsAreRefusedWithoutFallback() async throws {
        try await expectRefused(craft(header: ["alg": "HS256", "kid": "nope"]), .tenant, .unknownKey)
        // Even when signed with the one real key, an unknown kid does not fall back to it.
        try await expectRefused(craft(header: ["alg": "HS256", "kid": "../../t1"]), .tenant, .unknownKey)
    }

    @Test func aKeySetOfSeveralKeysNeedsAKid() async throws {
        let keys = try await TokenKeySet().adding(hs256Secret: Self.tenantSecret, kid: "t1")
            .adding(hs256Secret: Array("second-tenant-secret-0123456789abcdef".utf8), kid: "t2")
        let verifier = TokenVerifier(configuration: .init(), tenantKeys: keys, platformKeys: TokenKeySet(), status: FixedCredentialStatus())
        await #expect(throws: AuthenticationError.keyIDRequired) {
            try await verifier.verify(craft(header: ["alg": "HS256"]), for: .tenant, now: now)
        }
        // With a single key a kid-less token is fine.
        _ = try await self.verifier().verify(craft(header: ["alg": "HS256"]), for: .tenant, now: now)
    }

    @Test func tenantAndPlatformKeysDoNotCross() async throws {
        // A tenant-shaped token signed with the platform secret, naming the platform kid.
        let tenantWithPlatformKey = craft(header: ["alg": "HS256", "kid": "p1"], secret: Self.platformSecret)
        try await expectRefused(tenantWithPlatformKey, .tenant, .unknownKey)
        try await expectRefused(tenantWithPlatformKey, .platform, .wrongAudience)
        // The same without a kid: each surface has one key, the signature fails.
        try await expectRefused(craft(header: ["alg": "HS256"], secret: Self.platformSecret), .tenant, .badSignature)
        // A platform-shaped token signed with the tenant secret.
        let platformClaims = claims(["aud": "tenantscope-platform", "role": "platform_admin", "tenant_id": nil])
        try await expectRefused(craft(header: ["alg": "HS256"], claims: platformClaims, secret: Self.tenantSecret), .platform, .badSignature)
        try await expectRefused(craft(header: ["alg": "HS256", "kid": "t1"], claims: platformClaims, secret: Self.tenantSecret), .platform, .unknownKey)
        // A properly signed platform token is still not a tenant token, and vice versa.
        let platform = craft(header: ["alg": "HS256", "kid": "p1"], claims: platformClaims, secret: Self.platformSecret)
        try await expectRefused(platform, .tenant, .unknownKey)
        #expect(try await verifier().verify(platform, for: .platform, now: now) == .platformAdmin(operator: "user-1"))
        let platformRoleOnTenantToken = craft(header: ["alg": "HS256", "kid": "p1"],
                                              claims: claims(["aud": "tenantscope-platform"]), secret: Self.platformSecret)
        try await expectRefused(platformRoleOnTenantToken, .platform, .badClaims)
    }

    /// A property given twice means what the last parser to read it decides: refused, in header and claims.
    @Test func aPropertyGivenTwiceIsRefused() async throws {
        let claims = JSONValue.object(self.claims([:])).jsonText
        let other = TenantID(UUID())
        let twiceTenant = String(claims.dropLast()) + ",\"tenant_id\":\"\(other)\"}"
        let twiceKid = #"{"alg":"HS256","typ":"JWT","kid":"t1","kid":"p1"}"#
        for (header, body) in [(#"{"alg":"HS256","typ":"JWT","kid":"t1"}"#, twiceTenant), (twiceKid, claims)] {
            let input = Self.base64URL(Data(header.utf8)) + "." + Self.base64URL(Data(body.utf8))
            let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: Self.tenantSecret))
            try await expectRefused(input + "." + Self.base64URL(Data(mac)), .tenant, .malformed)
        }
    }

    /// RFC 7515 4.1.11: `crit` names extensions a recipient must understand or refuse the token; this server understands
    /// none, in whatever shape `crit` comes. Key-locating headers are never followed: a token naming its own key is still
    /// checked against the configured one.
    @Test func criticalExtensionsAreRefusedAndKeyURLsIgnored() async throws {
        for crit: JSONValue in [.array(["exp"]), .array(["b64"]), .array([]), "b64", .null] {
            try await expectRefused(craft(header: ["alg": "HS256", "typ": "JWT", "kid": "t1", "crit": crit, "b64": false]), .tenant,
                                    .criticalExtension)
        }
        let selfKeyed: JSONObject = ["alg": "HS256", "kid": "t1", "jku": "https://attacker.example/keys.json",
                                     "jwk": .object(["kty": "oct", "k": "YXR0YWNrZXI"])]
        try await expectRefused(craft(header: selfKeyed, secret: Array("attacker".utf8)), .tenant, .badSignature)
        _ = try await verifier().verify(craft(header: selfKeyed), for: .tenant, now: now)
    }

    @Test func revokedTokenIDsAreRefused() async throws {
        try await expectRefused(craft(claims: claims(["jti": "revoked-jti"])), .tenant, .revoked)
        _ = try await verifier(revoked: ["revoked-jti"]).verify(craft(claims: claims(["jti": "fine"])), for: .tenant, now: now)
    }

    @Test func shortHMACSecretsAreRefusedAtStartUp() async {
        await #expect(throws: TenantScopeError.self) { try await TokenKeySet().adding(hs256Secret: Array("too-short".utf8), kid: "x") }
        await #expect(throws: TenantScopeError.self) { try await TokenKeySet().adding(jwksJSON: #"{"keys":[{"kty":"oct","k":"abc"}]}"#) }
    }
}

@Suite struct CSVTests {
    @Test func escapesSeparatorsQuotesAndFormulas() {
        #expect(CSV.escape("plain") == "plain")
        #expect(CSV.escape("a,b") == "\"a,b\"")
        #expect(CSV.escape("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSV.escape("=cmd()") == "'=cmd()")
        #expect(CSV.escape("-0.5") == "-0.5")
        // A leading tab or carriage return, which some spreadsheets skip before the formula (probe 38).
        #expect(CSV.escape("\t=1+1") == "'\t=1+1")
        #expect(CSV.escape("\r=1+1") == "\"'\r=1+1\"")
        #expect(CSV.escape("\r\n=1+1") == "\"'\r\n=1+1\"")
        // A line break of two characters is quoted like one: unquoted, it ended the row.
        #expect(CSV.escape("a\r\nb") == "\"a\r\nb\"")
    }
}
