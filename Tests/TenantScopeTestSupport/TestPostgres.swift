import Foundation
import Logging
import PostgresNIO
@testable import TenantScopeCore
@testable import TenantScopePostgres

/// The one PostgreSQL cluster of a test process, started through the product's own launcher, with a
/// migrated template database that suites clone when they need a database of their own.
///
/// It lives in a fresh directory under `$TENANTSCOPE_TEST_ROOT` (or the system temp directory), on a
/// port the kernel hands out. A small watchdog process stops it once the test process is gone, however
/// that process ends (an `atexit` handler does not run on a crash).
actor TestPostgres {
    static let shared = TestPostgres()

    /// The shared database (`tenantscope`) and the template (`tenantscope_template`) clones are made from.
    struct Cluster: Sendable {
        let ownerEndpoint: DatabaseEndpoint
        let superuserEndpoint: DatabaseEndpoint
        let root: String
        static let templateName = "tenantscope_template"
    }

    private var cluster: Task<Cluster, any Error>?

    static let logger: Logger = {
        var logger = Logger(label: "tenantscope-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// The cluster, started (and its template made) on first use.
    func start() async throws -> Cluster {
        if let cluster { return try await cluster.value }
        let task = Task { () throws -> Cluster in
            let root = try Self.makeTemporaryDirectory("tenantscope-test")
            // Every suite on this cluster runs at once with pools of its own (up to 34 connections per
            // database handle, more for suites that open one per test); a full run was measured at 377
            // backends, too close to the 400 it had. Idle backends cost a few MB each: 1,000 leaves room
            // for new suites without a run ever failing for want of a connection slot.
            let embedded = EmbeddedPostgres(
                configuration: .init(stateDirectory: root, relaxedDurability: true, maximumConnections: 1000), logger: Self.logger)
            let owner = try await embedded.start()
            Watchdog.stopWhenThisProcessExits(dataDirectory: root + "/postgres/data")
            try await Migrator(ownerEndpoint: owner, logger: Self.logger).migrate()
            let superuser = try await embedded.superuserEndpoint()
            // Nobody is connected to the freshly migrated database yet: copy it as the template now.
            _ = try await OneShotConnection.with(superuser, logger: Self.logger) { connection in
                try await connection.query(PostgresQuery(unsafeSQL: """
                    CREATE DATABASE \(Cluster.templateName) TEMPLATE \(EmbeddedPostgres.databaseName) OWNER \(EmbeddedPostgres.ownerRole)
                    """), logger: Self.logger)
            }
            return Cluster(ownerEndpoint: owner, superuserEndpoint: superuser, root: root)
        }
        cluster = task
        return try await task.value
    }

    /// A new database cloned from the template (a fresh, migrated TenantScope database in milliseconds).
    func cloneTemplate() async throws -> DatabaseEndpoint {
        let cluster = try await start()
        let name = "t_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await OneShotConnection.with(cluster.superuserEndpoint, logger: Self.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: """
                CREATE DATABASE \(name) TEMPLATE \(Cluster.templateName) OWNER \(EmbeddedPostgres.ownerRole)
                """), logger: Self.logger)
        }
        var endpoint = cluster.ownerEndpoint
        endpoint.database = name
        return endpoint
    }

    /// Drops a clone (its connections must be closed).
    func drop(_ endpoint: DatabaseEndpoint) async throws {
        let cluster = try await start()
        _ = try await OneShotConnection.with(cluster.superuserEndpoint, logger: Self.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: "DROP DATABASE IF EXISTS \(endpoint.database) WITH (FORCE)"), logger: Self.logger)
        }
    }

    /// A fresh temporary directory (reachable by the `postgres` OS user when we run as root).
    static func makeTemporaryDirectory(_ name: String) throws -> String {
        let fromScript = ProcessInfo.processInfo.environment["TENANTSCOPE_TEST_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
        let base = fromScript ?? FileManager.default.temporaryDirectory.path
        let path = "\(base)/\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // The postgres OS user must traverse into it. Only the test root is ours to open up: the system
        // temporary directory must keep its own mode (1777).
        if fromScript != nil { chmod(base, 0o755) }
        chmod(path, 0o755)
        return path
    }
}
