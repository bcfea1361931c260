import Foundation
import Hummingbird
import TenantScopeCore

/// The one query-string rule of every route: `application/x-www-form-urlencoded`, as HTML forms and
/// most HTTP clients (Python's `urlencode`, TinCanPython) encode it — `+` is a space, then
/// percent-decoding. A literal `+` is sent as `%2B`.
///
/// (Hummingbird's `queryParameters` keeps `+`, which breaks JSON such as `agent={"objectType":+"Agent"}`
/// and the dashboard's own GET form.) Text that is not UTF-8 after decoding, or that holds a NUL, is
/// refused here, once, for every route: PostgreSQL cannot store either.
enum QueryParameters {
    static func pairs(of request: Request) throws(TenantScopeError) -> [(String, String)] {
        try pairs(request.uri.query)
    }

    /// Refuses any parameter on a route that takes none (a list of exports or schedules): a filter the route does not
    /// have is a 400 that says so, never a full answer the client takes for a filtered one.
    static func requireNone(in request: Request) throws(TenantScopeError) {
        try require(only: [], in: request)
    }

    /// Refuses a parameter the route does not have, and one given twice: a route with a flag or two (`debug`) reads
    /// each once, and a filter it does not have is a 400, never an answer the client takes for a filtered one.
    static func require(only allowed: Set<String>, in request: Request) throws(TenantScopeError) {
        var seen: Set<String> = []
        for (name, _) in try pairs(of: request) {
            guard allowed.contains(name) else {
                let takes = allowed.isEmpty ? "no query parameters" : "only " + allowed.sorted().joined(separator: ", ")
                throw .invalidInput("this route takes \(takes), not '\(name.prefix(64))'")
            }
            guard seen.insert(name).inserted else { throw .invalidInput("the parameter '\(name)' is given twice") }
        }
    }

    static func pairs(_ query: String?) throws(TenantScopeError) -> [(String, String)] {
        guard let query, !query.isEmpty else { return [] }
        var result: [(String, String)] = []
        for pair in query.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = try decode(parts[0], what: "a parameter name")
            let value = parts.count > 1 ? try decode(parts[1], what: "the parameter '\(name)'") : ""
            result.append((name, value))
        }
        return result
    }

    /// A name or value as a query carries it, the inverse of the decoding above: everything outside
    /// RFC 3986's unreserved characters percent-encoded, `+` included.
    static func encode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    private static func decode(_ text: Substring, what: String) throws(TenantScopeError) -> String {
        let spaced = text.replacingOccurrences(of: "+", with: " ")
        guard let decoded = spaced.removingPercentEncoding else {
            throw .invalidInput("\(what) is not valid percent-encoded UTF-8")
        }
        guard !decoded.utf8.contains(0) else { throw .invalidInput("\(what) contains a NUL character") }
        return decoded
    }
}
