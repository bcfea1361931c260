import Crypto
import CryptoExtras
import Foundation
import SwiftASN1
import Testing
import X509
@testable import TenantScopeCore

/// Signed statements (xAPI 1.0.3 Data 2.6): what ADL's suite asserts (RS256/384/512 accepted, other
/// algorithms and payloads that are not JSON refused) and what it does not reach (payload equality, x5c).
@Suite struct StatementSignatureTests {
    static let statement: JSONObject = [
        "id": "6f1c1d52-5b3b-4a8e-9d1e-1e7f3f0c2a11",
        "actor": ["mbox": "mailto:signer@example.com"],
        "verb": ["id": "http://adlnet.gov/expapi/verbs/attended"],
        "object": ["id": "https://example.com/activity"],
    ]
    static let key = try! _RSA.Signing.PrivateKey(keySize: .bits2048)

    static func jws(_ payload: String, algorithm: String = "RS256", header extra: JSONObject = [:], key: _RSA.Signing.PrivateKey = key) throws -> [UInt8] {
        var header: JSONObject = ["alg": .string(algorithm)]
        header.merge(extra) { _, new in new }
        let input = Base64URL.encode(Data(JSONValue.object(header).jsonText.utf8)) + "." + Base64URL.encode(Data(payload.utf8))
        let data = Data(input.utf8)
        let signature = switch algorithm {
        case "RS384": try key.signature(for: SHA384.hash(data: data), padding: .insecurePKCS1v1_5)
        case "RS512": try key.signature(for: SHA512.hash(data: data), padding: .insecurePKCS1v1_5)
        default: try key.signature(for: SHA256.hash(data: data), padding: .insecurePKCS1v1_5)
        }
        return Array((input + "." + Base64URL.encode(signature.rawRepresentation)).utf8)
    }

    static func refusal(_ jws: [UInt8], statement: JSONObject = statement) -> String? {
        do {
            try StatementSignature.verify(jws, statement: statement, path: "statement.attachments[0]")
            return nil
        } catch {
            return error.message
        }
    }

    @Test(arguments: ["RS256", "RS384", "RS512"]) func rsaAlgorithmsAreAccepted(_ algorithm: String) throws {
        #expect(Self.refusal(try Self.jws(JSONValue.object(Self.statement).jsonText, algorithm: algorithm)) == nil)
    }

    @Test func otherAlgorithmsAndBrokenTokensAreRefused() throws {
        let payload = JSONValue.object(Self.statement).jsonText
        #expect(Self.refusal(try Self.jws(payload, algorithm: "HS256"))?.contains("RS256, RS384 or RS512") == true)
        #expect(Self.refusal(try Self.jws(payload, algorithm: "none"))?.contains("RS256, RS384 or RS512") == true)
        #expect(Self.refusal(Array("not a jws".utf8))?.contains("compact serialization") == true)
        // The suite's "bad JWS": a payload that is no longer JSON.
        #expect(Self.refusal(try Self.jws(payload.replacingOccurrences(of: "\"", with: "'")))?.contains("not a JSON serialization") == true)
    }

    @Test func thePayloadMustBeTheStatementBeforeItWasSigned() throws {
        // The LRS may fill in `id` and the sender adds `attachments` after signing: neither is a difference.
        var withoutID = Self.statement
        withoutID["id"] = nil
        var sent = Self.statement
        sent["attachments"] = [["usageType": .string(StatementSignature.usageType)]]
        #expect(Self.refusal(try Self.jws(JSONValue.object(withoutID).jsonText), statement: sent) == nil)
        // Any other change is.
        var changed = Self.statement
        changed["verb"] = ["id": "http://adlnet.gov/expapi/verbs/failed"]
        #expect(Self.refusal(try Self.jws(JSONValue.object(changed).jsonText))?.contains("differs from the statement") == true)
    }

    @Test func anX5CCertificateMustVerifyTheSignature() throws {
        let name = try DistinguishedName { CommonName("signer.example") }
        let now = Date()
        let certificate = try Certificate(
            version: .v3, serialNumber: .init(), publicKey: .init(Self.key.publicKey),
            notValidBefore: now.addingTimeInterval(-60), notValidAfter: now.addingTimeInterval(3_600),
            issuer: name, subject: name, signatureAlgorithm: .sha256WithRSAEncryption, extensions: .init(),
            issuerPrivateKey: .init(Self.key))
        var serializer = DER.Serializer()
        try serializer.serialize(certificate)
        let x5c: JSONObject = ["x5c": [.string(Data(serializer.serializedBytes).base64EncodedString())]]
        let payload = JSONValue.object(Self.statement).jsonText
        #expect(Self.refusal(try Self.jws(payload, header: x5c)) == nil)
        // Signed by another key than the certificate's.
        let other = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        #expect(Self.refusal(try Self.jws(payload, header: x5c, key: other))?.contains("does not verify") == true)
        #expect(Self.refusal(try Self.jws(payload, header: ["x5c": ["bm90IGEgY2VydA=="]]))?.contains("cannot be read") == true)
    }
}

/// The multipart/mixed reader and writer, and how parts are matched with the attachments statements declare.
@Suite struct MultipartBodyTests {
    static func body(_ parts: [(String, String)], boundary: String = "b0und") -> [UInt8] {
        var text = "preamble\r\n"
        for (headers, content) in parts { text += "--\(boundary)\r\n\(headers)\r\n\r\n\(content)\r\n" }
        return Array((text + "--\(boundary)--\r\n").utf8)
    }

    @Test func partsRoundTripThroughTheWriter() throws {
        let parsed = try MultipartBody.parse(Self.body([("Content-Type:application/json", "[]"), ("Content-Type: text/plain\r\nX-Experience-API-Hash: ab", "hi\r\nthere")]), boundary: "b0und")
        #expect(parsed.parts.count == 2)
        #expect(parsed.parts[0].mediaType == "application/json" && parsed.parts[0].body == Array("[]".utf8))
        #expect(parsed.parts[1].headers["x-experience-api-hash"] == "ab" && parsed.parts[1].body == Array("hi\r\nthere".utf8))
        #expect(try MultipartBody.parse(parsed.encoded(boundary: "other"), boundary: "other") == parsed)
        #expect(try MultipartBody.boundary(ofContentType: #"multipart/mixed; boundary="a b""#) == "a b")
        #expect(throws: TenantScopeError.self) { try MultipartBody.boundary(ofContentType: "multipart/mixed") }
        #expect(throws: TenantScopeError.self) { try MultipartBody.parse(Array("--b0und\r\nContent-Type: a/b\r\n\r\nno end".utf8), boundary: "b0und") }
    }

    /// Header bytes that are not UTF-8 are refused, not repaired into U+FFFD (which would be stored as a content type).
    @Test func headerLinesThatAreNotUTF8AreRefused() throws {
        var body = Self.body([("Content-Type: text/plain", "hi")])
        body[body.firstIndex(of: UInt8(ascii: "/"))!] = 0xFF
        let error = #expect(throws: TenantScopeError.self) { try MultipartBody.parse(body, boundary: "b0und") }
        #expect(error?.message.contains("not UTF-8") == true, "\(String(describing: error))")
    }

    static let content = Array("hello attachment".utf8)
    static let hash = Hex.encode(SHA256.hash(data: content))
    static func statement(fileUrl: Bool = false) -> JSONObject {
        var attachment: JSONObject = ["usageType": "https://example.com/u", "contentType": "text/plain",
                                               "length": .number(String(content.count)), "sha2": .string(hash)]
        if fileUrl { attachment["fileUrl"] = "https://example.com/f" }
        return ["actor": ["mbox": "mailto:a@example.com"], "attachments": [.object(attachment)]]
    }
    static func part(hash: String = hash, encoding: String = "binary", bytes: [UInt8] = content) -> MultipartBody.Part {
        .init(headers: ["Content-Type": "text/plain", "Content-Transfer-Encoding": encoding, "X-Experience-API-Hash": hash], body: bytes)
    }

    static func refusal(_ parts: [MultipartBody.Part], _ statement: JSONObject = statement()) -> String? {
        do {
            _ = try StatementAttachments.match(parts: parts, statements: [statement], paths: ["statement"])
            return nil
        } catch {
            return error.message
        }
    }

    @Test func everyAttachmentNeedsItsPartAndEveryPartAnAttachment() {
        #expect(Self.refusal([Self.part()]) == nil)
        #expect(Self.refusal([], Self.statement(fileUrl: true)) == nil)
        #expect(Self.refusal([])?.contains("no fileUrl") == true)
        #expect(Self.refusal([Self.part(), Self.part(hash: Hex.encode(SHA256.hash(data: [1])), bytes: [1])])?.contains("no attachment") == true)
        #expect(Self.refusal([Self.part(bytes: Array("tampered".utf8))])?.contains("does not have the SHA-2") == true)
        #expect(Self.refusal([Self.part(encoding: "base64")])?.contains("binary") == true)
        var signature = Self.statement()
        signature["attachments"] = [["usageType": .string(StatementSignature.usageType), "contentType": "text/plain", "sha2": .string(Self.hash)]]
        #expect(Self.refusal([Self.part()], signature)?.contains("application/octet-stream") == true)
    }
}
