import Foundation
import HummingbirdTesting
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer

@Suite struct HTTPRoutesTests {
    @Test func healthAndReadiness() async throws {
        let handle = try await TestCluster.shared.start()
        // A database object of its own: the application runs its pools as services.
        let database = try await Database.prepare(ownerEndpoint: handle.ownerEndpoint, logger: TestCluster.logger)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil), tokens: try await TestTokens.verifier(), catalog: try StandardReports.catalog(), logger: TestCluster.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ok\""))
            }
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("schema version \(Migration.latestVersion)"))
            }
        }
    }

    @Test func readinessFailsWhenTheDatabaseIsUnreachable() async throws {
        let handle = try await TestCluster.shared.start()
        var unreachable = handle.ownerEndpoint
        unreachable.port = try #require(FreePort.find())
        let database = try Database(ownerEndpoint: unreachable, appPassword: "x", contextKeyHex: String(repeating: "ab", count: 32), linkKeyHex: String(repeating: "cd", count: 32), logger: TestCluster.logger)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil), tokens: try await TestTokens.verifier(), catalog: try StandardReports.catalog(), logger: TestCluster.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/readyz", method: .get) { response in
                #expect(response.status == .serviceUnavailable)
            }
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
            }
        }
    }
}
