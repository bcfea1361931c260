import Foundation

/// Query-string parameters decoded the way HTML forms and most xAPI clients encode them: `+` is a space,
/// then percent-decoding. (Hummingbird's `queryParameters` keeps `+`, which breaks JSON such as
/// `agent={"objectType":+"Agent"}` sent by Python's `urlencode`.)
enum FormQuery {
    static func parameters(_ query: String?) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        return query.split(separator: "&", omittingEmptySubsequences: true).map { pair in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            return (decode(parts[0]), parts.count > 1 ? decode(parts[1]) : "")
        }
    }

    private static func decode(_ text: Substring) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }
}
