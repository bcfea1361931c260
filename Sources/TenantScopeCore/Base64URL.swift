import Foundation

/// Base64url without padding (RFC 4648 §5), as JWTs, session cookies and cursors carry bytes in URLs.
public enum Base64URL {
    public static func encode(_ data: some DataProtocol) -> String {
        let base64 = Data(data).base64EncodedString().utf8
        return String(decoding: base64.lazy.filter { $0 != UInt8(ascii: "=") }.map { byte in
            switch byte {
            case UInt8(ascii: "+"): UInt8(ascii: "-")
            case UInt8(ascii: "/"): UInt8(ascii: "_")
            default: byte
            }
        }, as: UTF8.self)
    }

    /// The bytes of base64url text, padded or not; nil for anything else.
    ///
    /// Maps the alphabet byte by byte: Foundation's `replacingOccurrences` took 1.4 % of the machine under report
    /// load, one bearer token per request (a perf profile, architecture decision 55).
    public static func decode(_ text: some StringProtocol) -> Data? {
        var base64 = text.utf8.map { byte in
            switch byte {
            case UInt8(ascii: "-"): UInt8(ascii: "+")
            case UInt8(ascii: "_"): UInt8(ascii: "/")
            default: byte
            }
        }
        base64.append(contentsOf: repeatElement(UInt8(ascii: "="), count: (4 - base64.count % 4) % 4))
        return Data(base64Encoded: Data(base64))
    }
}
