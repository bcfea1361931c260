import Foundation
import Hummingbird
import HummingbirdTesting
import HTTPTypes
import Testing
@testable import TenantScopePostgres
@testable import TenantScopeServer

/// A page (dashboards, embeds, shared links, the platform's analytics and previews) answers an outage as the API
/// does: 503 with `Retry-After`, as an HTML page. The page middleware rebuilt the answer's header fields from nothing
/// and dropped the `Retry-After` the error's JSON answer carried (probe 37).
@Suite struct PageRetryAfterTests {
    @Test func aPageAnswersAnOutageWithRetryAfter() async throws {
        let router = Router(context: AppRequestContext.self)
        router.add(middleware: PageMiddleware(embedding: EmbeddingPolicy()))
        router.get("dashboards/learning") { _, _ -> Response in throw DatabaseUnavailable("the database is not reachable") }
        try await Application(router: router).test(.router) { client in
            try await client.execute(uri: "/dashboards/learning", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
                #expect(response.headers[.contentType]?.hasPrefix("text/html") == true)
                #expect(response.headers[.retryAfter] == "5", "\(response.headers)")
            }
        }
    }
}
