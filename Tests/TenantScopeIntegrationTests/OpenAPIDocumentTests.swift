import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The OpenAPI document describes exactly the routes the router registers: a route added without
/// documenting it, or a documented route that no longer exists, fails here.
@Suite(.database) struct OpenAPIDocumentTests {
    /// `METHOD /path` for every operation in the document (read line by line: the file is ours and
    /// keeps one path per `  /path:` line and one method per `    method:` line).
    static func documentedOperations() -> Set<String> {
        var operations: Set<String> = []
        var path: String?
        for line in OpenAPIRoute<AppRequestContext>.document.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"), let path {
                let method = line.trimmingCharacters(in: .whitespaces).dropLast()
                if ["get", "put", "post", "delete", "head", "patch"].contains(String(method)) {
                    operations.insert("\(method.uppercased()) \(path)")
                }
            } else if !line.hasPrefix(" "), !line.isEmpty {
                path = nil
            }
        }
        return operations
    }

    @Test func everyRegisteredRouteIsDocumentedAndViceVersa() async throws {
        let handle = try TestDatabase.current
        let router = buildRouter(database: handle.database, configuration: .init(rollupInterval: nil),
                                 tokens: try await TestTokens.verifier(for: handle.database), catalog: try StandardReports.catalog())
        let registered = Set(router.routes.map { "\($0.method) /\($0.path)".replacingOccurrences(of: "//", with: "/") })
        let documented = Self.documentedOperations()
        #expect(documented.count > 10, "the document parser found too little: \(documented)")
        #expect(registered.subtracting(documented).isEmpty, "registered but not in openapi.yaml: \(registered.subtracting(documented).sorted())")
        #expect(documented.subtracting(registered).isEmpty, "in openapi.yaml but not registered: \(documented.subtracting(registered).sorted())")
    }
}
