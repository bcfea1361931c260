import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// Keeps every tenant's daily roll-ups current: every `interval` it asks each tenant, inside that
/// tenant's scoped transaction, to catch up from its `stored` watermark (`app.catch_up_rollups`).
///
/// Late statements land in their own (old) day and voiding statements name their target's day, so both
/// are recomputed; statements are re-examined for `overlap` behind the watermark, which covers a batch
/// whose transaction committed after a later batch had been seen.
public struct RollupService: Service {
    public static let defaultInterval: Duration = .seconds(5)
    public static let overlap = "10 minutes"

    private let database: Database
    private let interval: Duration
    private let logger: Logger

    public init(database: Database, interval: Duration = Self.defaultInterval, logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.catchUpAll()
                } catch where Task.isCancelled {
                    break  // shutting down
                } catch {
                    self.logger.warning("Roll-up catch-up failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// One catch-up pass over every tenant (or the given ones). Returns, per tenant, how many days were
    /// recomputed (-1: nothing new).
    @discardableResult
    public func catchUpAll(
        tenants only: [Tenant]? = nil, fullRebuild: Bool = false, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> [(tenant: Tenant, days: Int)] {
        var tenants = only ?? []
        if only == nil { tenants = try await database.tenants.list() }
        var results: [(tenant: Tenant, days: Int)] = []
        for (index, tenant) in tenants.enumerated() {
            let days = try await catchUp(tenant.id, fullRebuild: fullRebuild)
            if days > 0 {
                logger.debug("Roll-ups caught up", metadata: ["tenant.id": "\(tenant.id)", "rollup.days": "\(days)"])
            }
            progress("[\(index + 1)/\(tenants.count)] \(tenant.slug): " + (days < 0 ? "up to date" : "\(days) days recomputed"))
            results.append((tenant, days))
        }
        return results
    }

    /// Catches one tenant up, or rebuilds everything derived from its raw statements: learners, courses,
    /// enrollments and every roll-up (after restoring raw data, or to check the incremental path).
    @discardableResult
    public func catchUp(_ tenant: TenantID, fullRebuild: Bool = false) async throws -> Int {
        try await database.sessions.run(.tenant(tenant), access: .readWrite, statementTimeout: .seconds(1800)) { connection in
            if fullRebuild {
                try await connection.query("SELECT app.lock_tenant_derivation()")
                try await connection.query("SELECT app.refresh_learning_facts(NULL)")
            }
            return try await connection.query("SELECT app.catch_up_rollups(\(Self.overlap)::interval, \(fullRebuild))")
                .collect().first?.decode(Int.self) ?? -1
        }
    }
}
