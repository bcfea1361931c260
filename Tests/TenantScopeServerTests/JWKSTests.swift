import Crypto
import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopeServer

/// Public keys from a JWKS document: EdDSA and ES256 tokens verify; a key without kid/alg is refused.
@Suite struct JWKSTests {
    let tenant = TenantID(uuidString: "0b7c2f9e-8d1a-4c55-9f3e-2a6b1c4d5e6f")!

    func b64(_ data: some DataProtocol) -> String { TokenVerifierTests.base64URL(Data(data)) }

    func signingInput(alg: String, kid: String) -> String {
        let now = Int(Date().timeIntervalSince1970)
        let header: JSONValue = ["alg": .string(alg), "kid": .string(kid), "typ": "JWT"]
        let claims: JSONValue = [
            "sub": "u", "iat": JSONValue(now), "exp": JSONValue(now + 300), "aud": "tenantscope", "iss": "tenantscope",
            "tenant_id": .string(tenant.description), "role": "viewer",
        ]
        return b64(Array(header.jsonText.utf8)) + "." + b64(Array(claims.jsonText.utf8))
    }

    @Test func eddsaAndES256KeysFromAJWKSVerifyTokens() async throws {
        let ed = Curve25519.Signing.PrivateKey()
        let es = P256.Signing.PrivateKey()
        let raw = es.publicKey.rawRepresentation
        let jwks = """
            {"keys":[
              {"kty":"OKP","crv":"Ed25519","x":"\(b64(ed.publicKey.rawRepresentation))","kid":"ed-1","alg":"EdDSA"},
              {"kty":"EC","crv":"P-256","x":"\(b64(raw.prefix(32)))","y":"\(b64(raw.suffix(32)))","kid":"es-1","alg":"ES256"}
            ]}
            """
        let keys = try await TokenKeySet().adding(jwksJSON: jwks)
        #expect(keys.keyIDs == ["ed-1", "es-1"])
        let verifier = TokenVerifier(configuration: .init(), tenantKeys: keys, platformKeys: TokenKeySet(), status: FixedCredentialStatus())

        let edInput = signingInput(alg: "EdDSA", kid: "ed-1")
        let edToken = edInput + "." + b64(try ed.signature(for: Data(edInput.utf8)))
        #expect(try await verifier.verify(edToken, for: .tenant) == .tenantUser(TenantUser(subject: "u", tenant: tenant, role: .viewer)))

        let esInput = signingInput(alg: "ES256", kid: "es-1")
        let esToken = esInput + "." + b64(try es.signature(for: Data(esInput.utf8)).rawRepresentation)
        _ = try await verifier.verify(esToken, for: .tenant)

        // The EdDSA token relabelled for the ES256 key fails; so does a signature from another key.
        let relabelled = signingInput(alg: "EdDSA", kid: "es-1")
        await #expect(throws: AuthenticationError.algorithmMismatch) {
            try await verifier.verify(relabelled + "." + b64(try ed.signature(for: Data(relabelled.utf8))), for: .tenant)
        }
        let stranger = Curve25519.Signing.PrivateKey()
        await #expect(throws: AuthenticationError.badSignature) {
            try await verifier.verify(edInput + "." + b64(try stranger.signature(for: Data(edInput.utf8))), for: .tenant)
        }
    }

    @Test func jwksKeysNeedKidAndASupportedAlg() async {
        let x = b64(Curve25519.Signing.PrivateKey().publicKey.rawRepresentation)
        await #expect(throws: TenantScopeError.self) {
            try await TokenKeySet().adding(jwksJSON: #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"\#(x)","alg":"EdDSA"}]}"#)
        }
        await #expect(throws: TenantScopeError.self) {
            try await TokenKeySet().adding(jwksJSON: #"{"keys":[{"kty":"OKP","crv":"Ed25519","x":"\#(x)","kid":"k"}]}"#)
        }
        await #expect(throws: TenantScopeError.self) { try await TokenKeySet().adding(jwksJSON: "not json") }
    }
}
