import Crypto
import CryptoExtras
import Foundation
import SwiftASN1
import X509

/// Checks a signed statement (xAPI 1.0.3 Data 2.6): its signature attachment holds a JWS in compact
/// serialization whose payload is the statement as it was before the signature was attached.
///
/// - The JWS must be three base64url parts whose header is a JSON object naming `RS256`, `RS384` or
///   `RS512` (anything else, HS256 and `none` included, is refused) and whose payload is a JSON object.
/// - The payload must equal the statement, compared as JSON values, leaving out `attachments` (the
///   signature was made before it was attached) and the properties the LRS fills in (`id`, `stored`,
///   `authority`, `version`) where the sender left them out of one side.
/// - With an `x5c` header, the signature must verify with the first certificate's RSA public key.
///   Without one the LRS has no key to check it against, which xAPI allows ("the LRS MAY verify"): the
///   format checks above still hold.
public enum StatementSignature {
    public static let usageType = "http://adlnet.gov/expapi/attachments/signature"
    public static let contentType = "application/octet-stream"
    static let lrsFilledKeys = ["id", "stored", "authority", "version"]

    /// Throws a 400 unless `jws` is a well-formed signature of `statement` (as the sender sent it).
    public static func verify(_ jws: [UInt8], statement: JSONObject, path: String) throws(TenantScopeError) {
        let refuse: (String) -> TenantScopeError = { .invalidInput("\(path): the signature attachment \($0)") }
        let text = String(decoding: jws, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        let segments = text.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, segments.allSatisfy({ !$0.isEmpty }),
              let headerBytes = Base64URL.decode(segments[0]), let payloadBytes = Base64URL.decode(segments[1]),
              let signature = Base64URL.decode(segments[2])
        else { throw refuse("is not a JWS in compact serialization (three base64url parts)") }
        guard let header = (try? JSONParser.parse(headerBytes))?.objectValue else { throw refuse("has a JWS header that is not a JSON object") }
        guard let algorithm = header["alg"]?.stringValue, ["RS256", "RS384", "RS512"].contains(algorithm) else {
            throw refuse("must use the JWS algorithm RS256, RS384 or RS512")
        }
        guard let payload = (try? JSONParser.parse(payloadBytes))?.objectValue else {
            throw refuse("has a payload that is not a JSON serialization of the statement")
        }
        guard comparable(payload, other: statement) == comparable(statement, other: payload) else {
            throw refuse("has a payload that differs from the statement")
        }
        if let chain = header["x5c"] {
            guard let first = chain.arrayValue?.first?.stringValue, let der = Data(base64Encoded: first) else {
                throw refuse("has an x5c header that is not an array of base64 DER certificates")
            }
            let key: _RSA.Signing.PublicKey
            do {
                let certificate = try Certificate(derEncoded: Array(der))
                guard let rsa = _RSA.Signing.PublicKey(certificate.publicKey) else { throw refuse("has an x5c certificate without an RSA key") }
                key = rsa
            } catch let error as TenantScopeError {
                throw error
            } catch {
                throw refuse("has an x5c certificate that cannot be read")
            }
            let signingInput = Data("\(segments[0]).\(segments[1])".utf8)
            let rsaSignature = _RSA.Signing.RSASignature(rawRepresentation: signature)
            let valid = switch algorithm {
            case "RS256": key.isValidSignature(rsaSignature, for: SHA256.hash(data: signingInput), padding: .insecurePKCS1v1_5)
            case "RS384": key.isValidSignature(rsaSignature, for: SHA384.hash(data: signingInput), padding: .insecurePKCS1v1_5)
            default: key.isValidSignature(rsaSignature, for: SHA512.hash(data: signingInput), padding: .insecurePKCS1v1_5)
            }
            guard valid else { throw refuse("does not verify with the key of its x5c certificate") }
        }
    }

    /// `statement` without `attachments`, and without the LRS-filled properties `other` lacks.
    static func comparable(_ statement: JSONObject, other: JSONObject) -> JSONObject {
        var reduced = statement
        reduced["attachments"] = nil
        for key in lrsFilledKeys where other[key] == nil { reduced[key] = nil }
        return reduced
    }
}
