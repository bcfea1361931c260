import Foundation
import HummingbirdTesting
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

@Suite(.database) struct HTTPRoutesTests {
    @Test func healthAndReadiness() async throws {
        let handle = try TestDatabase.current
        // A database object of its own: the application runs its pools as services.
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil), tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in
            try await client.execute(uri: "/healthz", method: .get) { response in
                #expect(response.status == .ok)
                #expect(String(buffer: response.body).contains("\"ok\""))
            }
            // Readiness answers within its own bound; on a busy machine the first probe may say "not ready
            // yet", as an orchestrator's probe would see. Probe until ready, as they do: the test asserts
            // the answer, not how fast the machine is.
            var body = ""
            for _ in 0..<600 where !body.contains("\"ready\"") {
                body = try await client.execute(uri: "/readyz", method: .get) { response in
                    #expect(response.status == .ok || response.status == .serviceUnavailable)
                    return String(buffer: response.body)
                }
                if !body.contains("\"ready\"") { try await Task.sleep(for: .milliseconds(200)) }
            }
            #expect(body.contains("\"ready\"") && body.contains("schema version \(Migration.latestVersion)"), "\(body)")
        }
    }

    @Test func readinessFailsWhenTheDatabaseIsUnreachable() async throws {
        let handle = try TestDatabase.current
        var unreachable = handle.ownerEndpoint
        unreachable.port = try #require(FreePort.find())
        let database = try Database(appEndpoint: unreachable.with(username: Database.appRole, password: "x"),
                                    tenantEndpoint: unreachable.with(username: Database.tenantLoginRole, password: "x"), contextKeyHex: String(repeating: "ab", count: 32), linkKeyHex: String(repeating: "cd", count: 32), logger: TestDatabase.logger)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil), tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
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
