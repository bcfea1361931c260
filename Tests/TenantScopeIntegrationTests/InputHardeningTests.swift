import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Input that used to reach PostgreSQL unchecked: each is a clear 400 now, and every response carries
/// the headers that keep a browser from sniffing it and a cache from keeping it.
@Suite(.database) struct InputHardeningTests {
    @Test func nulAndInvalidPercentEncodingInAnyParameterAre400() async throws {
        try await LRSFixture.with { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id)
            var bearer = HTTPFields()
            bearer[.authorization] = "Bearer \(token)"
            for uri in ["/api/v1/reports/completion_rate_by_course?course=x%00y", "/api/v1/reports/completion_rate_by_course?course=%FF%FE",
                        "/api/v1/reports/active_learners?da%00ys=7"] {
                try await client.execute(uri: uri, method: .get, headers: bearer) { response in
                    #expect(response.status == .badRequest, "\(uri): \(String(buffer: response.body))")
                }
            }
            try await client.execute(uri: "/xAPI/statements?verb=http://x.example/%00", method: .get, headers: fixture.a.headers) { response in
                #expect(response.status == .badRequest)
                #expect(response.headers[XAPIRoutes.versionHeader] != nil)
            }
        }
    }

    @Test func theMoreCursorIsSignedForItsTenant() async throws {
        try await LRSFixture.with { client, fixture in
            let batch = XAPIJSON.array((0..<3).map { _ in XAPIJSON.statement() })
            _ = try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", fixture.a.headers, batch, expect: .ok)
            let first = try await XAPIConformanceTests.send(client, .get, "/xAPI/statements?limit=1", fixture.a.headers, expect: .ok)
            let more = try #require(JSONParser.parse(Array(first.body.utf8)).objectValue?["more"]?.stringValue)
            #expect(more.hasPrefix("/xAPI/statements?more="))
            _ = try await XAPIConformanceTests.send(client, .get, more, fixture.a.headers, expect: .ok)

            let cursor = String(more.dropFirst("/xAPI/statements?more=".count))
            let parts = cursor.split(separator: ".")
            try #require(parts.count == 2, "\(cursor)")
            let (payload, mac) = (parts[0], parts[1])
            // The same cursor from another tenant, a cursor with its payload changed, or one of our own making.
            let forgedPayload = Base64URL.encode(Data(#"{"limit":1,"format":"exact","relatedActivities":false,"relatedAgents":false,"ascending":false,"since":"x'::jsonb"}"#.utf8))
            for attempt in [(cursor, fixture.b.headers), ("\(forgedPayload).\(mac)", fixture.a.headers), (String(payload), fixture.a.headers),
                            ("\(payload).\(String(repeating: "0", count: 64))", fixture.a.headers)] {
                let response = try await XAPIConformanceTests.send(client, .get, "/xAPI/statements?more=\(attempt.0)", attempt.1, expect: .badRequest)
                #expect(response.body.contains("more is not a cursor this server issued"))
            }
        }
    }

    @Test func everyResponseIsNosniffAndNotStored() async throws {
        try await LRSFixture.with { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id)
            var bearer = HTTPFields()
            bearer[.authorization] = "Bearer \(token)"
            for (uri, headers) in [("/api/v1/reports", bearer), ("/api/v1/reports/nope", bearer), ("/api/v1/reports", HTTPFields()),
                                   ("/xAPI/statements", fixture.a.headers), ("/healthz", HTTPFields()), ("/openapi.yaml", HTTPFields())] {
                try await client.execute(uri: uri, method: .get, headers: headers) { response in
                    #expect(response.headers[.xContentTypeOptions] == "nosniff", "\(uri)")
                    #expect(response.headers[.cacheControl] == "no-store", "\(uri)")
                    #expect(response.headers[.contentSecurityPolicy]?.contains("sandbox") == true, "\(uri)")
                }
            }
            // A path or a method no route has is a JSON error like any other (probe 38: an empty 404).
            for (uri, method) in [("/nope", HTTPRequest.Method.get), ("/api/v1/exports", .patch)] {
                try await client.execute(uri: uri, method: method, headers: bearer) { response in
                    #expect(response.status == .notFound && String(buffer: response.body).contains(#""error":"no such route"#), "\(method) \(uri)")
                    #expect(response.headers[.contentType]?.hasPrefix("application/json") == true)
                }
            }
        }
    }
}
