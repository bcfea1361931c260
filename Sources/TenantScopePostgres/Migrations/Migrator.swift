import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Applies the versioned migrations, as the owner role, idempotently and one process at a time.
public struct Migrator: Sendable {
    public struct Outcome: Sendable {
        public var applied: [Int]
        public var currentVersion: Int
    }

    private let endpoint: DatabaseEndpoint
    private let logger: Logger
    private let migrations: [Migration]

    public init(ownerEndpoint: DatabaseEndpoint, logger: Logger, migrations: [Migration] = Migration.all) {
        self.endpoint = ownerEndpoint
        self.logger = logger
        self.migrations = migrations
    }

    /// Applies every pending migration in one transaction (all or nothing).
    @discardableResult
    public func migrate(progress: @Sendable (String) -> Void = { _ in }) async throws -> Outcome {
        try await OneShotConnection.with(endpoint, logger: logger) { connection in
            let hardened = try await connection.query(PostgresQuery(unsafeSQL: ClusterHardening.verificationQuery), logger: logger)
                .collect().first?.decode(Bool?.self) ?? nil
            guard hardened == true else {
                throw TenantScopeError.environment(
                    "the database is not hardened for row-level security (set_config, pg_notify and advisory locks are still "
                        + "granted to PUBLIC, or the owner may not pass on temp_file_limit). Run as a superuser: tenantscope db hardening-sql --owner \(endpoint.username) | psql <superuser URL>"
                )
            }

            try await connection.query("BEGIN", logger: logger)
            do {
                // One migrator at a time: a second process waits here, then finds nothing left to do.
                try await connection.execute("SELECT pg_advisory_xact_lock(7311046, 1)", logger: logger)
                try await connection.query("CREATE SCHEMA IF NOT EXISTS app_private", logger: logger)
                try await connection.query("""
                    CREATE TABLE IF NOT EXISTS app_private.schema_migrations (
                      version integer PRIMARY KEY,
                      name text NOT NULL,
                      checksum text NOT NULL,
                      applied_at timestamptz NOT NULL DEFAULT now()
                    )
                    """, logger: logger)
                var recorded: [Int: String] = [:]
                for try await (version, checksum) in try await connection.query(
                    "SELECT version, checksum FROM app_private.schema_migrations", logger: logger
                ).decode((Int, String).self) {
                    recorded[version] = checksum
                }
                for migration in migrations {
                    if let checksum = recorded[migration.version], checksum != migration.checksum {
                        throw TenantScopeError.environment(
                            "migration \(migration.version) (\(migration.name)) was changed after it was applied; add a new migration instead"
                        )
                    }
                }
                if let unknown = recorded.keys.filter({ v in !migrations.contains { $0.version == v } }).max() {
                    throw TenantScopeError.environment(
                        "the database has migration \(unknown), which this build does not know; run a newer tenantscope"
                    )
                }

                var applied: [Int] = []
                for migration in migrations where recorded[migration.version] == nil {
                    progress("Applying migration \(migration.version): \(migration.name)")
                    for statement in migration.statements {
                        // Read to its end: a statement's error raised while it produces rows comes with them.
                        try await connection.execute(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query("""
                        INSERT INTO app_private.schema_migrations (version, name, checksum)
                        VALUES (\(migration.version), \(migration.name), \(migration.checksum))
                        """, logger: logger)
                    applied.append(migration.version)
                    logger.info("Migration applied", metadata: ["migration.version": "\(migration.version)"])
                }
                try await connection.commit(logger: logger)
                return Outcome(applied: applied, currentVersion: migrations.last?.version ?? 0)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }
}
