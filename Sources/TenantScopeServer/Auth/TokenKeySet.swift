import Foundation
import JWTKit
import TenantScopeCore

/// The keys that may sign one kind of token (tenant/embed or platform), each under its own `kid`.
///
/// Every key sits in a collection of its own: the verifier picks the key from the token's `kid` (or the
/// only key when there is one), checks the header's `alg` against it, and never falls back to a default
/// key — jwt-kit's fallback for an unknown `kid` is the pitfall SECURITY.md describes.
public struct TokenKeySet: Sendable {
    struct Key: Sendable {
        let algorithm: String
        let collection: JWTKeyCollection
    }

    let keys: [String: Key]

    public var isEmpty: Bool { keys.isEmpty }
    public var keyIDs: [String] { keys.keys.sorted() }

    public init() {
        self.keys = [:]
    }

    private init(keys: [String: Key]) {
        self.keys = keys
    }

    /// Adds an HS256 secret. Secrets shorter than 32 bytes are refused (jwt-kit only asserts in debug builds).
    public func adding(hs256Secret secret: [UInt8], kid: String) async throws(TenantScopeError) -> TokenKeySet {
        guard secret.count >= 32 else {
            throw .environment("HS256 secret for key '\(kid)' is \(secret.count) bytes; at least 32 are required")
        }
        guard keys[kid] == nil else { throw .environment("duplicate key id '\(kid)'") }
        let collection = JWTKeyCollection()
        await collection.add(hmac: HMACKey(from: secret), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        var keys = self.keys
        keys[kid] = Key(algorithm: "HS256", collection: collection)
        return TokenKeySet(keys: keys)
    }

    /// Adds the public keys of a JWKS document (EdDSA, ES256, RS256). Each key needs `kid` and `alg`.
    public func adding(jwksJSON json: String) async throws(TenantScopeError) -> TokenKeySet {
        let jwks: JWKS
        do {
            jwks = try JSONDecoder().decode(JWKS.self, from: Data(json.utf8))
        } catch {
            throw .environment("the JWKS document is not valid JSON Web Key Set JSON")
        }
        var keys = self.keys
        for jwk in jwks.keys {
            guard let kid = jwk.keyIdentifier?.string, !kid.isEmpty else { throw .environment("every JWKS key needs a kid") }
            guard let algorithm = jwk.algorithm?.rawValue, ["EdDSA", "ES256", "RS256"].contains(algorithm) else {
                throw .environment("JWKS key '\(kid)' must declare alg EdDSA, ES256 or RS256")
            }
            guard keys[kid] == nil else { throw .environment("duplicate key id '\(kid)'") }
            let collection = JWTKeyCollection()
            do {
                try await collection.add(jwk: jwk)
            } catch {
                throw .environment("JWKS key '\(kid)' cannot be used: \(error)")
            }
            keys[kid] = Key(algorithm: algorithm, collection: collection)
        }
        return TokenKeySet(keys: keys)
    }

    /// Whether a key with this id is in the set.
    func contains(kid: String) -> Bool {
        keys[kid] != nil
    }

    /// The key for a token header, or the reason it has none.
    func key(kid: String?) throws(AuthenticationError) -> Key {
        if let kid {
            guard let key = keys[kid] else { throw .unknownKey }
            return key
        }
        guard keys.count == 1, let only = keys.values.first else { throw .keyIDRequired }
        return only
    }
}
