import ArgumentParser
import Foundation
import Logging
import PostgresNIO
import TenantScopeCore
import TenantScopePostgres

/// `--database-url` or `--state-dir`: every command that touches the database takes these.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: ArgumentHelp(
        "PostgreSQL URL of the owner role (postgresql://user:password@host:5432/db). Default: $DATABASE_URL, else the embedded cluster.",
        valueName: "url"
    ))
    var databaseURL: String?

    @Option(name: .long, help: ArgumentHelp(
        "State directory: the embedded PostgreSQL cluster (unless --database-url is given), token keys and the audit checkpoints. Default: $TENANTSCOPE_STATE_DIR, else /var/lib/tenantscope as root or ~/.local/share/tenantscope.",
        valueName: "path"
    ))
    var stateDir: String?

    var environment: [String: String] { ProcessInfo.processInfo.environment }

    var resolvedDatabaseURL: String? {
        databaseURL ?? environment["DATABASE_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    var resolvedStateDirectory: String {
        let path = stateDir ?? environment["TENANTSCOPE_STATE_DIR"].flatMap { $0.isEmpty ? nil : $0 }
            ?? EmbeddedPostgres.defaultStateDirectory()
        return URL(fileURLWithPath: path).standardizedFileURL.path
    }


    /// The embedded cluster, unless a database URL is configured.
    func embedded(logger: Logger) -> EmbeddedPostgres? {
        guard resolvedDatabaseURL == nil else { return nil }
        return EmbeddedPostgres(configuration: .init(stateDirectory: resolvedStateDirectory), logger: logger)
    }

    /// The owner endpoint: the configured URL, or the embedded cluster (started if needed).
    func ownerEndpoint(embedded: EmbeddedPostgres?) async throws -> DatabaseEndpoint {
        if let embedded { return try await embedded.start(progress: progress) }
        return try DatabaseEndpoint(url: resolvedDatabaseURL!)
    }

    /// The audit checkpoints of the state directory (see `AuditCheckpoints`): commands that append to
    /// the audit log checkpoint the new head there, as the server does.
    func auditCheckpoints() throws -> AuditCheckpoints {
        try AuditCheckpoints.inStateDirectory(resolvedStateDirectory)
    }

    /// Runs `body` with a migrated database and running pools (the server's and the owner's); an
    /// embedded cluster started for it is stopped after. With `migrating: false` nothing is migrated:
    /// a database at another schema version than this build's is refused instead.
    func withDatabase<Result: Sendable>(
        logger: Logger, migrating: Bool = true, _ body: (AdminDatabase) async throws -> Result
    ) async throws -> Result {
        let embedded = embedded(logger: logger)
        do {
            let endpoint = try await ownerEndpoint(embedded: embedded)
            let checkpoints = try auditCheckpoints()
            let database = migrating
                ? try await AdminDatabase.prepare(ownerEndpoint: endpoint, logger: logger, checkpoints: checkpoints, progress: progress)
                : try await AdminDatabase.open(ownerEndpoint: endpoint, logger: logger, checkpoints: checkpoints)
            let result = try await database.withRunningClients {
                let result = try await body(database)
                try await checkpoints.flush(database.runtime.audit, logger: logger)
                return result
            }
            try await embedded?.stopIfStartedHere()
            return result
        } catch {
            _ = try? await embedded?.stopIfStartedHere()
            throw CLIError(error)
        }
    }
}
