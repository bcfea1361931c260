import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle
import TenantScopeCore

/// The database as the rest of TenantScope sees it: migrated, with an owner pool for administration
/// and the server's pool (`tenantscope_app`) behind the one scoped-session helper.
///
/// Both pools are `Service`s: the server adds them to its service group, commands use ``withRunningClients(_:)``.
public final class Database: Sendable {
    public let ownerEndpoint: DatabaseEndpoint
    public let appEndpoint: DatabaseEndpoint
    let owner: PostgresClient
    let app: PostgresClient
    /// The tenant-scoped session helper: the only path to tenant tables.
    public let sessions: ScopedDatabase
    public let tenants: TenantDirectory
    public let audit: AuditLog
    public let revocations: TokenRevocations
    /// The Learning Record Store's statements, through ``sessions``.
    public let statements: StatementStore
    public let featureEvents: FeatureEventStore
    public let lrsCredentials: LRSCredentials
    /// Saved dashboard views and shared links, through ``sessions``.
    public let savedViews: SavedViewStore
    private let logger: Logger

    /// Applies pending migrations, reads the runtime secrets, and builds (but does not run) the pools.
    public static func prepare(
        ownerEndpoint: DatabaseEndpoint, logger: Logger, progress: @Sendable (String) -> Void = { _ in }
    ) async throws -> Database {
        try await Migrator(ownerEndpoint: ownerEndpoint, logger: logger).migrate(progress: progress)
        return try await open(ownerEndpoint: ownerEndpoint, logger: logger)
    }

    /// Reads the runtime secrets of an already migrated database and builds (but does not run) the pools.
    public static func open(ownerEndpoint: DatabaseEndpoint, logger: Logger) async throws -> Database {
        let settings = try await OneShotConnection.with(ownerEndpoint, logger: logger) { connection in
            var settings: [String: String] = [:]
            for try await (key, value) in try await connection.query(
                "SELECT key, value FROM app_private.settings", logger: logger
            ).decode((String, String).self) {
                settings[key] = value
            }
            return settings
        }
        guard let key = settings["tenant_context_key"], let password = settings["app_role_password"],
              let linkKey = settings["shared_link_key"] else {
            throw TenantScopeError.environment("app_private.settings is missing the runtime secrets; the migrations did not complete")
        }
        return try Database(ownerEndpoint: ownerEndpoint, appPassword: password, contextKeyHex: key, linkKeyHex: linkKey, logger: logger)
    }

    init(ownerEndpoint: DatabaseEndpoint, appPassword: String, contextKeyHex: String, linkKeyHex: String, logger: Logger) throws {
        self.ownerEndpoint = ownerEndpoint
        self.appEndpoint = ownerEndpoint.with(username: "tenantscope_app", password: appPassword)
        self.owner = PostgresClient(configuration: ownerEndpoint.clientConfiguration(maximumConnections: 4), backgroundLogger: logger)
        self.app = PostgresClient(configuration: appEndpoint.clientConfiguration(maximumConnections: 20), backgroundLogger: logger)
        self.sessions = ScopedDatabase(client: app, signer: try TenantContextSigner(keyHex: contextKeyHex))
        self.tenants = TenantDirectory(ownerClient: owner)
        self.audit = AuditLog(appClient: app, ownerClient: owner)
        self.revocations = TokenRevocations(appClient: app, ownerClient: owner)
        self.statements = StatementStore(sessions: sessions)
        self.featureEvents = FeatureEventStore(sessions: sessions)
        self.lrsCredentials = LRSCredentials(appClient: app, ownerClient: owner)
        self.savedViews = SavedViewStore(sessions: sessions, appClient: app, linkSigner: try SharedLinkSigner(keyHex: linkKeyHex))
        self.logger = logger
    }

    /// The pools, for a service group.
    public var services: [any Service] { [owner, app] }

    /// Runs both pools for the duration of `body` (for commands and tests that have no service group).
    public func withRunningClients<Result: Sendable>(_ body: () async throws -> Result) async throws -> Result {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.owner.run() }
            group.addTask { await self.app.run() }
            defer { group.cancelAll() }
            return try await body()
        }
    }

    /// Readiness: the server's role can connect and the schema is at this build's version.
    ///
    /// Bounded by `timeout`, so a probe against an unreachable database answers instead of hanging.
    public func readiness(timeout: Duration = .seconds(3)) async -> (ready: Bool, detail: String) {
        await withTaskGroup(of: (ready: Bool, detail: String).self) { group in
            group.addTask {
                do {
                    let rows = try await self.app.query("SELECT app.schema_version()", logger: self.logger)
                    let version = try await rows.collect().first?.decode(Int.self) ?? 0
                    guard version == Migration.latestVersion else {
                        return (false, "schema version \(version), expected \(Migration.latestVersion)")
                    }
                    return (true, "schema version \(version)")
                } catch {
                    return (false, "database unreachable")
                }
            }
            group.addTask {
                try? await Task.sleep(for: timeout)
                return (false, "database did not answer within \(timeout)")
            }
            let first = await group.next()!
            group.cancelAll()
            return first
        }
    }
}
