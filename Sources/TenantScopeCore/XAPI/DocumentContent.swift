import Crypto
import Foundation

/// A document's bytes and Content-Type, and the rules xAPI puts on them (Communication 2.2): documents
/// are opaque, except that POSTing a JSON object to a JSON object merges their top-level keys.
public struct DocumentContent: Sendable, Hashable {
    public var bytes: [UInt8]
    public var contentType: String

    /// Stored when a request names no Content-Type: what the bytes are is then unknown.
    public static let defaultContentType = "application/octet-stream"

    public init(bytes: [UInt8], contentType: String?) {
        self.bytes = bytes
        let type = contentType?.trimmingCharacters(in: .whitespaces) ?? ""
        self.contentType = type.isEmpty ? Self.defaultContentType : type
    }

    /// `application/json`, with or without parameters (`; charset=utf-8`). Split on Unicode scalars, not
    /// characters, so that the rule is the one PostgreSQL applies to a stored Content-Type
    /// (`app.xapi_is_json_media_type`, migration 23): a `;` followed by a combining mark still splits.
    public var isJSON: Bool {
        let media = contentType.unicodeScalars.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        return media.trimmingCharacters(in: .whitespaces).lowercased() == "application/json"
    }

    /// The ETag xAPI asks for (Communication 3.1): the SHA-1 of the content, hex, without quotes.
    public var etag: String {
        Insecure.SHA1.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    /// The document a POST leaves: `patch` merged into `self` when both are JSON objects (the patch's
    /// top-level keys replace the stored ones, whole), a 400 otherwise. The rule as a value: the server
    /// merges in PostgreSQL, in the write's one statement (`app.xapi_document_write`, migration 23, which
    /// keeps each member's bytes and orders the keys), and XAPIDocumentStatementTests holds the two equal.
    public func merging(_ patch: DocumentContent) throws(TenantScopeError) -> DocumentContent {
        guard isJSON, patch.isJSON else {
            throw .invalidInput("a POST merges JSON documents only: both the stored document and the request must be application/json")
        }
        guard case .object(let stored)? = try? JSONParser.parse(bytes) else {
            throw .invalidInput("the stored document is not a JSON object, so nothing can be merged into it")
        }
        var merged = stored
        for (key, value) in try patch.jsonObject() { merged[key] = value }
        return DocumentContent(bytes: Array(JSONValue.object(merged).jsonText.utf8), contentType: "application/json")
    }

    /// The content as a JSON object; a 400 when a JSON document is not one (a POST needs an object), saying where it
    /// stops being JSON when it is none (probe 38: every reason read "must be a JSON object").
    public func jsonObject() throws(TenantScopeError) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw .invalidInput("an application/json document sent with POST is not valid JSON: \(error)")
        }
        guard case .object(let object) = value else {
            throw .invalidInput("an application/json document sent with POST must be a JSON object")
        }
        return object
    }
}
