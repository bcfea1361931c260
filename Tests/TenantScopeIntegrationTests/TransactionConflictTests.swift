import Foundation
import PostgresNIO
import Testing
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// A transaction PostgreSQL ends to resolve a conflict with a concurrent one (a deadlock here, made on purpose between
/// two real connections) is answered 503 with `Retry-After`: nothing happened and a retry should pass. It was a 500,
/// as ingest's deadlock between batches sharing ids was (`IngestLockOrderTests`). Other server errors stay what they were.
@Suite(.database) struct TransactionConflictTests {
    @Test func aDeadlockIsARetryLaterAndNotAServerError() async throws {
        let handle = try TestDatabase.current
        let first = Int64.random(in: 1...Int64.max)
        let second = first == Int64.max ? 1 : first + 1
        let deadlock: (any Error)? = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { a in
            try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { b in
                _ = try await a.query("BEGIN", logger: TestDatabase.logger).collect()
                _ = try await b.query("BEGIN", logger: TestDatabase.logger).collect()
                _ = try await a.query("SELECT pg_advisory_xact_lock(\(first))", logger: TestDatabase.logger).collect()
                _ = try await b.query("SELECT pg_advisory_xact_lock(\(second))", logger: TestDatabase.logger).collect()
                // Each now waits for the other: PostgreSQL fails one after deadlock_timeout, and the other gets its lock.
                async let fromA: (any Error)? = Self.error { _ = try await a.query("SELECT pg_advisory_xact_lock(\(second))", logger: TestDatabase.logger).collect() }
                async let fromB: (any Error)? = Self.error { _ = try await b.query("SELECT pg_advisory_xact_lock(\(first))", logger: TestDatabase.logger).collect() }
                let errors = await [fromA, fromB].compactMap { $0 }
                _ = try? await a.query("ROLLBACK", logger: TestDatabase.logger).collect()
                _ = try? await b.query("ROLLBACK", logger: TestDatabase.logger).collect()
                #expect(errors.count == 1, "one of the two is ended: \(errors)")
                return errors.first
            }
        }
        let error = try #require(deadlock)
        #expect(TransactionConflict.sqlState(of: error) == "40P01", "\(String(reflecting: error))")
        #expect(ErrorMiddleware<AppRequestContext>.status(of: error) == .serviceUnavailable)

        let other = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            await Self.error { _ = try await connection.query("SELECT 1 / 0", logger: TestDatabase.logger).collect() }
        }
        let divisionByZero = try #require(other)
        #expect(!TransactionConflict.matches(divisionByZero))
        #expect(ErrorMiddleware<AppRequestContext>.status(of: divisionByZero) == .internalServerError)
    }

    static func error(_ work: () async throws -> Void) async -> (any Error)? {
        do {
            try await work()
            return nil
        } catch {
            return error
        }
    }
}
