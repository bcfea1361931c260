import Foundation

/// A `multipart/mixed` body (RFC 2046 §5.1) as xAPI carries statements with attachment content
/// (xAPI 1.0.3 Communication 1.5.2): parts of header lines and raw bytes between boundary lines.
///
/// Parsing works on bytes throughout: attachment parts are binary (`Content-Transfer-Encoding: binary`),
/// so nothing may be decoded as text except the header lines.
public struct MultipartBody: Sendable, Hashable {
    public struct Part: Sendable, Hashable {
        /// Header fields, names lowercased (field names are case-insensitive), values trimmed.
        public var headers: [String: String]
        public var body: [UInt8]

        public init(headers: [String: String], body: [UInt8]) {
            self.headers = Dictionary(headers.map { ($0.key.lowercased(), $0.value) }, uniquingKeysWith: { _, last in last })
            self.body = body
        }

        /// The media type of the part without parameters, lowercased.
        public var mediaType: String? {
            headers["content-type"].map { $0.split(separator: ";")[0].trimmingCharacters(in: .whitespaces).lowercased() }
        }
    }

    public var parts: [Part]

    public init(parts: [Part]) {
        self.parts = parts
    }

    /// The boundary parameter of a `multipart/...` Content-Type.
    public static func boundary(ofContentType contentType: String) throws(TenantScopeError) -> String {
        for parameter in contentType.split(separator: ";").dropFirst() {
            let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard pair.count == 2, pair[0].lowercased() == "boundary" else { continue }
            var value = pair[1]
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            // RFC 2046: 1 to 70 characters.
            guard (1...70).contains(value.utf8.count) else { break }
            return value
        }
        throw .invalidInput("a multipart Content-Type needs a boundary parameter of 1 to 70 characters")
    }

    /// Parses `body`, delimited by `boundary`. The preamble and epilogue are ignored, as RFC 2046 says.
    public static func parse(_ body: [UInt8], boundary: String) throws(TenantScopeError) -> MultipartBody {
        let delimiter = Array("--\(boundary)".utf8)
        // Every delimiter after the first is preceded by CRLF, which belongs to the delimiter, not the part.
        let innerDelimiter = Array("\r\n--\(boundary)".utf8)
        guard var position = firstIndex(of: delimiter, in: body, from: 0) else {
            throw .invalidInput("the multipart body holds no boundary line")
        }
        position += delimiter.count
        var parts: [Part] = []
        while true {
            // `--` right after a delimiter closes the body.
            if position + 1 < body.count, body[position] == UInt8(ascii: "-"), body[position + 1] == UInt8(ascii: "-") { break }
            // Transport padding (spaces, tabs) then the CRLF that ends the boundary line.
            guard let lineEnd = firstIndex(of: [13, 10], in: body, from: position) else {
                throw .invalidInput("the multipart body ends without its closing boundary")
            }
            let headerStart = lineEnd + 2
            let headerEnd: Int
            let contentStart: Int
            if body.count >= headerStart + 2, body[headerStart] == 13, body[headerStart + 1] == 10 {
                headerEnd = headerStart
                contentStart = headerStart + 2
            } else if let end = firstIndex(of: [13, 10, 13, 10], in: body, from: headerStart) {
                headerEnd = end
                contentStart = end + 4
            } else {
                throw .invalidInput("a multipart part's header lines are not ended by an empty line")
            }
            guard let contentEnd = firstIndex(of: innerDelimiter, in: body, from: contentStart) else {
                throw .invalidInput("the multipart body ends without its closing boundary")
            }
            var headers: [String: String] = [:]
            // Refused rather than repaired: a header decoded with U+FFFD in place of its bytes would be stored as
            // an attachment's content type nobody sent.
            guard let headerText = String(validating: body[headerStart..<headerEnd], as: UTF8.self) else {
                throw .invalidInput("a multipart part's header lines are not UTF-8")
            }
            for line in headerText.components(separatedBy: "\r\n") where !line.isEmpty {
                guard let colon = line.firstIndex(of: ":") else {
                    throw .invalidInput("a multipart part's header line is not `Name: value`")
                }
                headers[line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()] =
                    line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            parts.append(Part(headers: headers, body: Array(body[contentStart..<contentEnd])))
            position = contentEnd + innerDelimiter.count
        }
        guard !parts.isEmpty else { throw .invalidInput("the multipart body holds no parts") }
        return MultipartBody(parts: parts)
    }

    /// The body's bytes: each part's headers (sorted by name, so the output is stable), then its bytes.
    public func encoded(boundary: String) -> [UInt8] {
        var out: [UInt8] = []
        for part in parts {
            out += Array("--\(boundary)\r\n".utf8)
            for name in part.headers.keys.sorted() {
                out += Array("\(Self.displayName(name)): \(part.headers[name]!)\r\n".utf8)
            }
            out += [13, 10]
            out += part.body
            out += [13, 10]
        }
        out += Array("--\(boundary)--\r\n".utf8)
        return out
    }

    /// A fresh boundary: random, so no part's bytes are likely to contain it.
    public static func makeBoundary() -> String {
        "tenantscope-" + UUID().uuidString.lowercased() + UUID().uuidString.lowercased().prefix(8)
    }

    static func displayName(_ lowercased: String) -> String {
        switch lowercased {
        case "x-experience-api-hash": return "X-Experience-API-Hash"
        default: return lowercased.split(separator: "-").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined(separator: "-")
        }
    }

    /// The first index at which `needle` starts in `haystack` at or after `start`.
    static func firstIndex(of needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count, start <= haystack.count - needle.count else { return nil }
        let first = needle[0]
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == first {
                var matched = true
                for offset in 1..<needle.count where haystack[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }
}
