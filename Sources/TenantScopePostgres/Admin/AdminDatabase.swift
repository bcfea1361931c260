import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The database as an operator's command sees it: the server's ``Database`` plus an owner pool for what
/// only the owner may do — create tenants, manage LRS keys, revoke tokens and sessions, read the audit
/// trail. Only the command line builds one; `serve` never does (architecture decision 21).
public final class AdminDatabase: Sendable {
    /// Everything the server itself can do.
    public let runtime: Database
    let owner: PostgresClient
    private let ownerRunner: PoolRunner
    public let tenants: TenantRegistry
    public let lrsKeys: LRSKeyRegistry
    public let credentials: CredentialRegistry
    public let auditTrail: AuditTrail
    public let tiers: TierRegistry
    public let clusters: ClusterRegistry
    /// Moves tenants between clusters.
    public let mover: TenantMover

    /// Applies pending migrations, then opens the server's pool and an owner pool.
    public static func prepare(
        ownerEndpoint: DatabaseEndpoint, logger: Logger, checkpoints: AuditCheckpoints? = nil,
        progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> AdminDatabase {
        let runtime = try await Database.prepare(ownerEndpoint: ownerEndpoint, logger: logger, checkpoints: checkpoints, progress: progress)
        return AdminDatabase(runtime: runtime, ownerEndpoint: ownerEndpoint, logger: logger)
    }

    /// Opens both pools on an already migrated database.
    public static func open(
        ownerEndpoint: DatabaseEndpoint, logger: Logger, checkpoints: AuditCheckpoints? = nil, limits: Database.Limits = .init()
    ) async throws -> AdminDatabase {
        let appEndpoint = try await Database.appEndpoint(ownerEndpoint: ownerEndpoint, logger: logger)
        let runtime = try await Database.open(appEndpoint: appEndpoint, logger: logger, checkpoints: checkpoints, limits: limits)
        return AdminDatabase(runtime: runtime, ownerEndpoint: ownerEndpoint, logger: logger)
    }

    init(runtime: Database, ownerEndpoint: DatabaseEndpoint, logger: Logger) {
        self.runtime = runtime
        self.owner = PostgresClient(configuration: ownerEndpoint.clientConfiguration(maximumConnections: 4), backgroundLogger: logger)
        self.ownerRunner = PoolRunner(client: owner, name: "owner", logger: logger)
        self.tenants = TenantRegistry(ownerClient: owner)
        self.lrsKeys = LRSKeyRegistry(ownerClient: owner)
        self.credentials = CredentialRegistry(ownerClient: owner)
        self.auditTrail = AuditTrail(ownerClient: owner)
        self.tiers = TierRegistry(ownerClient: owner)
        self.clusters = ClusterRegistry(ownerClient: owner)
        self.mover = TenantMover(ownerClient: owner, controlOwner: ownerEndpoint, audit: runtime.audit, logger: logger)
    }

    /// Runs both pools for the duration of `body`.
    public func withRunningClients<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.ownerRunner.run() }
            defer { group.cancelAll() }
            await ownerRunner.waitUntilRunning()
            try Task.checkCancellation()
            return try await runtime.withRunningClients(body)
        }
    }
}
