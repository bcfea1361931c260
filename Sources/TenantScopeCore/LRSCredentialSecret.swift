import Crypto
import Foundation

/// An LRS credential as a client holds it: a public key (`lrs_` + 20 hex digits) and a 64-hex-digit secret.
///
/// Only the SHA-256 of the secret is stored. Secrets are 32 random bytes, so a fast hash suffices:
/// there is no low-entropy password to brute-force.
public struct LRSCredentialSecret: Sendable, Hashable {
    public let key: String
    public let secret: String

    public init(key: String, secret: String) {
        self.key = key
        self.secret = secret
    }

    /// A fresh key and secret from the system's cryptographic random source.
    public static func generate() -> LRSCredentialSecret {
        LRSCredentialSecret(key: "lrs_" + hex(randomBytes(10)), secret: hex(randomBytes(32)))
    }

    public var secretHash: String { Self.hash(secret) }

    public static func hash(_ secret: String) -> String {
        hex(Array(SHA256.hash(data: Data(secret.utf8))))
    }

    public static func isWellFormedKey(_ key: String) -> Bool {
        key.count == 24 && key.hasPrefix("lrs_") && key.dropFirst(4).allSatisfy { $0.isHexDigit && !$0.isUppercase }
    }

    private static func randomBytes(_ count: Int) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
    }

    /// Lower-case hex. Every request with an LRS key hashes its secret: Foundation's `String(format:)` per byte took
    /// about 1 % of the machine under ingest, `Hex` a fraction of it.
    private static func hex(_ bytes: [UInt8]) -> String {
        Hex.encode(bytes)
    }
}
