import Crypto
import Foundation

/// The content of one attachment, as received in a multipart part and stored per tenant by its hash.
public struct AttachmentContent: Sendable, Hashable {
    /// The SHA-2 of `bytes` in lowercase hex (the attachment's `sha2`).
    public var sha2: String
    public var contentType: String
    public var bytes: [UInt8]

    public init(sha2: String, contentType: String, bytes: [UInt8]) {
        self.sha2 = sha2
        self.contentType = contentType
        self.bytes = bytes
    }
}

/// Pairs the attachments statements declare with the parts of a `multipart/mixed` request (xAPI 1.0.3
/// Data 2.4.11, Communication 1.5.2), and finds what a response must carry.
public enum StatementAttachments {
    /// The attachment declarations of a statement and of its SubStatement object, if any.
    public static func declared(in statement: JSONObject) -> [JSONObject] {
        var list = (statement["attachments"]?.arrayValue ?? []).compactMap(\.objectValue)
        if let object = statement["object"]?.objectValue, object["objectType"]?.stringValue == "SubStatement" {
            list += (object["attachments"]?.arrayValue ?? []).compactMap(\.objectValue)
        }
        return list
    }

    /// The lowercased `sha2` of every attachment of the statements, in order, once each.
    public static func hashes(of statements: [JSONObject]) -> [String] {
        var seen = Set<String>()
        return statements.flatMap(declared(in:)).compactMap { $0["sha2"]?.stringValue?.lowercased() }.filter { seen.insert($0).inserted }
    }

    /// Checks the attachment parts (every part after the statements) against the statements as sent
    /// (`statements[i]` is the i-th of the batch, `paths[i]` its name in errors) and returns their content.
    ///
    /// All-or-nothing, 400 on the first problem: a part without `X-Experience-API-Hash`, not
    /// `Content-Transfer-Encoding: binary`, whose bytes do not have its hash, whose Content-Type is missing,
    /// longer than 255 bytes or holds a control character, or that no attachment
    /// references; an attachment without `fileUrl` that no part carries; a signature attachment that is
    /// not `application/octet-stream`, not carried in a part, or not a valid signature of its statement.
    public static func match(
        parts: [MultipartBody.Part], statements: [JSONObject], paths: [String]
    ) throws(TenantScopeError) -> [AttachmentContent] {
        var contents: [String: AttachmentContent] = [:]
        var order: [String] = []
        for (index, part) in parts.enumerated() {
            let name = "multipart part \(index + 2)"
            guard let hash = part.headers["x-experience-api-hash"]?.lowercased(), !hash.isEmpty else {
                throw .invalidInput("\(name) needs an X-Experience-API-Hash header")
            }
            guard part.headers["content-transfer-encoding"]?.lowercased() == "binary" else {
                throw .invalidInput("\(name) needs Content-Transfer-Encoding: binary")
            }
            guard let actual = sha2(of: part.body, hexLength: hash.utf8.count), actual == hash else {
                throw .invalidInput("\(name): its content does not have the SHA-2 hash of its X-Experience-API-Hash header")
            }
            guard let contentType = part.headers["content-type"], !contentType.isEmpty, contentType.utf8.count <= 255 else {
                throw .invalidInput("\(name) needs a Content-Type header (at most 255 bytes)")
            }
            // The Content-Type is stored as text: PostgreSQL refuses a NUL, and no header value (RFC 9110
            // field-value) holds a control character other than a tab.
            guard !contentType.utf8.contains(where: { ($0 < 0x20 && $0 != 0x09) || $0 == 0x7F }) else {
                throw .invalidInput("\(name)'s Content-Type header contains a control character")
            }
            if contents[hash] == nil { order.append(hash) }
            contents[hash] = AttachmentContent(sha2: hash, contentType: contentType, bytes: part.body)
        }
        var referenced = Set<String>()
        for (statement, path) in zip(statements, paths) {
            for (position, attachment) in declared(in: statement).enumerated() {
                let attachmentPath = "\(path).attachments[\(position)]"
                guard let hash = attachment["sha2"]?.stringValue?.lowercased() else { continue }
                let isSignature = attachment["usageType"]?.stringValue == StatementSignature.usageType
                if isSignature {
                    guard attachment["contentType"]?.stringValue?.lowercased() == StatementSignature.contentType else {
                        throw .invalidInput("\(attachmentPath): a signature attachment must have the contentType \(StatementSignature.contentType)")
                    }
                    guard let content = contents[hash] else {
                        throw .invalidInput("\(attachmentPath): the signature must be sent as a part of the request")
                    }
                    try StatementSignature.verify(content.bytes, statement: statement, path: attachmentPath)
                }
                // `length` is not compared with the part: ADL's suite declares the file's size for content it
                // sends hex-encoded (Communication 1.5), and the hash already pins the bytes.
                if contents[hash] != nil {
                    referenced.insert(hash)
                } else if attachment["fileUrl"] == nil {
                    throw .invalidInput("\(attachmentPath) has no fileUrl, so the request must carry its content in a part with X-Experience-API-Hash \(hash)")
                }
            }
        }
        if let unreferenced = order.first(where: { !referenced.contains($0) }) {
            throw .invalidInput("a multipart part has the hash \(unreferenced), which no attachment of the statements references")
        }
        return order.map { contents[$0]! }
    }

    /// The SHA-2 of `bytes` in lowercase hex, of the variant whose hex length is `hexLength` (SHA-224 is
    /// not offered by the crypto library and is refused).
    static func sha2(of bytes: [UInt8], hexLength: Int) -> String? {
        switch hexLength {
        case 64: return Hex.encode(Array(SHA256.hash(data: bytes)))
        case 96: return Hex.encode(Array(SHA384.hash(data: bytes)))
        case 128: return Hex.encode(Array(SHA512.hash(data: bytes)))
        default: return nil
        }
    }
}
