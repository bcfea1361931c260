import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The OpenAPI document describes exactly the routes the router registers: a route added without
/// documenting it, or a documented route that no longer exists, fails here.
@Suite(.database) struct OpenAPIDocumentTests {
    /// `METHOD /path` for every operation in the document, read by the parser `verify-isolation` uses.
    static func documentedOperations() -> Set<String> {
        Set(OpenAPIOperations.parse(OpenAPIRoute<AppRequestContext>.document).map(\.description))
    }

    @Test func everyRegisteredRouteIsDocumentedAndViceVersa() async throws {
        let handle = try TestDatabase.current
        // With exports configured, so their routes are registered too.
        let exports = try ExportConfiguration.files(stateDirectory: handle.root + "/openapi-\(UUID().uuidString.prefix(8))")
        let router = buildRouter(database: handle.database, configuration: .init(rollupInterval: nil, exports: exports),
                                 tokens: try await TestTokens.verifier(for: handle.database), catalog: try StandardReports.catalog())
        let registered = Set(router.routes.map { "\($0.method) /\($0.path)".replacingOccurrences(of: "//", with: "/") })
        let documented = Self.documentedOperations()
        #expect(documented.count > 10, "the document parser found too little: \(documented)")
        #expect(registered.subtracting(documented).isEmpty, "registered but not in openapi.yaml: \(registered.subtracting(documented).sorted())")
        // HEAD is served wherever GET is (HeadAsGetResponder, in front of the router): the document names it where xAPI
        // requires it.
        let served = registered.union(registered.filter { $0.hasPrefix("GET ") }.map { "HEAD " + $0.dropFirst(4) })
        #expect(documented.subtracting(served).isEmpty, "in openapi.yaml but not served: \(documented.subtracting(served).sorted())")
    }
}
