import PostgresNIO
import Testing
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// What the pool's uses fail with while its server refuses every connection: ``DatabaseUnavailable`` (a 503), however
/// long the outage lasts. After a minute of failed connection attempts PostgresClient's pool stops waiting for them (its
/// circuit breaker, a fixed minute) and fails each use at once with its own error type, which went unclassified and
/// answered 500: a CI run whose cluster stayed down for minutes saw it.
///
/// It takes that minute, mostly asleep: the breaker's time cannot be set through PostgresClient.
@Suite struct DatabasePoolOutageTests {
    @Test func aUseAfterTheDriverStopsTryingToConnectIsStillUnavailable() async throws {
        let down = DatabaseEndpoint(host: "127.0.0.1", port: 1, username: "nobody", password: "none", database: "none", tls: .disable)
        let client = PostgresClient(configuration: down.clientConfiguration(maximumConnections: 1), backgroundLogger: TestDatabase.logger)
        let pool = DatabasePool(client: client, acquireTimeout: .seconds(2), logger: TestDatabase.logger)
        let running = Task { try await pool.service.run() }
        defer { running.cancel() }

        var reasons: Set<String> = []
        var otherErrors: [String] = []
        let start = ContinuousClock.now
        // Until the breaker answers (bounded, a hang detector) or anything but DatabaseUnavailable comes back.
        while !reasons.contains("the database has refused connections for a while"), otherErrors.isEmpty,
              ContinuousClock.now - start < .seconds(150) {
            do {
                _ = try await pool.query("SELECT 1", logger: TestDatabase.logger)
                otherErrors.append("a use succeeded against a closed port")
            } catch let error as DatabaseUnavailable {
                reasons.insert(error.reason)
            } catch {
                otherErrors.append(String(reflecting: error))
            }
            try await Task.sleep(for: .milliseconds(500))
        }
        #expect(otherErrors.isEmpty, "\(otherErrors)")
        #expect(reasons.contains("no database connection within 2.0 seconds"), "before the breaker: \(reasons)")
        #expect(reasons.contains("the database has refused connections for a while"), "the breaker never answered: \(reasons)")
    }
}
