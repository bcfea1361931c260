import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Every kind of input PostgreSQL would refuse, and every malformed shape, is a 4xx naming the problem,
/// and stores nothing: the tenant's row counts are the same after the whole corpus as before it.
@Suite(.database) struct BadInputCorpusTests {
    static func statement(actor: String = #"{"mbox":"mailto:ann@example.com"}"#, verb: String = "http://adlnet.gov/expapi/verbs/experienced",
                          object: String = "https://example.com/a", extra: String = "") -> String {
        #"{"actor":\#(actor),"verb":{"id":"\#(verb)"},"object":{"id":"\#(object)"}\#(extra)}"#
    }

    static let statementBodies: [(String, String)] = [
        ("a 6,000-character mbox", statement(actor: #"{"mbox":"mailto:\#(String(repeating: "a", count: 6000))@example.com"}"#)),
        ("a 100 kB verb IRI", statement(verb: "http://example.com/" + String(repeating: "v", count: 100_000))),
        ("a 3,000-byte activity IRI", statement(object: "http://example.com/" + String(repeating: "o", count: 3000))),
        ("a 1,000-byte account name", statement(actor: #"{"account":{"homePage":"https://example.com","name":"\#(String(repeating: "n", count: 1000))"}}"#)),
        ("an anonymous group actor of two 2,000-byte openids", statement(actor: group())),
        ("an anonymous group object of two 2,000-byte openids",
         #"{"actor":{"mbox":"mailto:ann@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":\#(group())}"#),
        ("a 1,000-byte cohort", statement(extra: #","context":{"extensions":{"https://tenantscope.dev/xapi/extensions/cohort":"\#(String(repeating: "c", count: 1000))"}}"#)),
        ("a number below numeric's range", statement(extra: #","result":{"score":{"raw":1e-20000}}"#)),
        ("a number above a Double", statement(extra: #","result":{"score":{"raw":1e400}}"#)),
        ("year 0000", statement(extra: #","timestamp":"0000-06-01T00:00:00Z""#)),
        ("year 1 that is year 0 in UTC", statement(extra: #","timestamp":"0001-01-01T00:30:00+01:00""#)),
        ("a fraction that rounds into year 10000", statement(extra: #","timestamp":"9999-12-31T23:59:59.9999999Z""#)),
        ("a NUL in a string", statement(actor: #"{"mbox":"mailto:a\u0000b@example.com"}"#)),
        ("malformed JSON", "{\"actor\":"),
        ("a wrong type", statement(actor: "\"ann\"")),
        ("600 levels of nesting", statement(extra: ",\"result\":{\"extensions\":{\"https://x.example/e\":" + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}}")),
        ("an empty batch", "[]"),
    ]

    /// An anonymous group of two members whose openids are 2,000 bytes each, of letters no compression shortens: their
    /// joined key passed every check and PostgreSQL refused its index entry (54000, a 500).
    static func group() -> String {
        var generator = SeededGenerator(seed: 54000)
        let letters = Array("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
        let openid = { (host: String) in "http://\(host).example/" + String((0..<2000).map { _ in letters.randomElement(using: &generator)! }) }
        return #"{"objectType":"Group","member":[{"openid":"\#(openid("a"))"},{"openid":"\#(openid("b"))"}]}"#
    }

    static func count(_ fixture: LRSFixture) async throws -> [String] {
        try await fixture.rows(fixture.a, "SELECT (SELECT count(*) FROM app.statements)::text || '/' || (SELECT count(*) FROM app.feature_events)::text")
    }

    @Test func everyBadInputIsA4xxAndStoresNothing() async throws {
        try await LRSFixture.with(maximumBodyBytes: 64 * 1024) { client, fixture in
            _ = try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(), expect: .ok)
            let before = try await Self.count(fixture)
            var headers = fixture.a.headers
            for (name, body) in Self.statementBodies {
                for method in [HTTPRequest.Method.post] {
                    try await client.execute(uri: "/xAPI/statements", method: method, headers: headers, body: ByteBuffer(string: body)) { response in
                        #expect((400..<500).contains(response.status.code), "\(name): \(response.status) \(String(buffer: response.body).prefix(300))")
                        #expect(String(buffer: response.body).contains("\"error\""), "\(name)")
                    }
                }
            }
            // Invalid UTF-8, and a body over the limit.
            var invalid = ByteBuffer(string: #"[{"actor":{"mbox":"mailto:a@b.example","name":""#)
            invalid.writeBytes([0xC3, 0x28])
            invalid.writeString(#""},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}]"#)
            for (name, body, expected) in [("invalid UTF-8", invalid, HTTPResponse.Status.badRequest),
                                           ("an oversized body", ByteBuffer(string: "[" + String(repeating: " ", count: 70 * 1024) + "]"), .contentTooLarge)] {
                try await client.execute(uri: "/xAPI/statements", method: .post, headers: headers, body: body) { response in
                    #expect(response.status == expected, "\(name): \(response.status)")
                }
            }
            // Product events with the same problems.
            for body in [#"{"events":[{"feature":"x","actor":"a\u0000b","occurred_at":"2026-01-01T00:00:00Z"}]}"#,
                         #"{"events":[{"feature":"x","actor":"a","occurred_at":"0000-01-01T00:00:00Z"}]}"#, "{", #"{"events":"no"}"#,
                         // A member beside the events (a tenant, say) is refused, not ignored.
                         #"{"events":[{"feature":"x","actor":"a","occurred_at":"2026-01-01T00:00:00Z"}],"tenant":"other"}"#,
                         // A member named twice is refused, not read as its last value.
                         #"{"events":[{"feature":"x","actor":"a","actor":"b","occurred_at":"2026-01-01T00:00:00Z"}]}"#] {
                try await client.execute(uri: "/api/v1/events", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                    #expect(response.status == .badRequest, "\(body): \(response.status) \(String(buffer: response.body))")
                }
            }
            // Query parameters: timestamps outside years 1-9999, and NUL.
            headers[.contentType] = nil
            for uri in ["/xAPI/statements?since=0000-01-01T00:00:00Z", "/xAPI/statements?until=0001-01-01T00:00:00%2B01:00",
                        "/xAPI/statements?until=9999-12-31T23:59:59.9999999Z",
                        "/xAPI/statements?agent=%7B%22mbox%22:%22mailto:a%00b@x.example%22%7D",
                        "/xAPI/statements?verb=http://example.com/" + String(repeating: "v", count: 3000)] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.status == .badRequest, "\(uri.prefix(80)): \(response.status) \(String(buffer: response.body))")
                }
            }
            var bearer = HTTPFields()
            bearer[.authorization] = "Bearer " + (try await TestTokens.tenant(fixture.a.tenant.id))
            for uri in ["/api/v1/reports/completion_rate_by_course?since=0000-01-01", "/api/v1/reports/completion_rate_by_course?since=10000-01-01",
                        "/api/v1/reports/completion_rate_by_course?course=x%00y", "/api/v1/reports/active_learners?days=99999999999999999999"] {
                try await client.execute(uri: uri, method: .get, headers: bearer) { response in
                    #expect(response.status == .badRequest, "\(uri): \(response.status) \(String(buffer: response.body))")
                }
            }
            #expect(try await Self.count(fixture) == before, "nothing of the corpus was stored")
        }
    }
}
