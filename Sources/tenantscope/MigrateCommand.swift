import ArgumentParser
import Logging
import TenantScopePostgres

struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate", abstract: "Apply pending database migrations (the server also does this at start-up)."
    )

    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        TenantScopeCommand.bootstrapLogging()
        let logger = Logger(label: "tenantscope")
        let embedded = database.embedded(logger: logger)
        do {
            let endpoint = try await database.ownerEndpoint(embedded: embedded)
            let outcome = try await Migrator(ownerEndpoint: endpoint, logger: logger).migrate(progress: progress)
            // The dedicated clusters tenants are placed on run the same schema.
            try await Database.migrateDedicatedClusters(controlOwner: endpoint, logger: logger, progress: progress)
            print(outcome.applied.isEmpty
                ? "Schema is up to date (version \(outcome.currentVersion))."
                : "Applied migrations \(outcome.applied.map(String.init).joined(separator: ", ")); schema version \(outcome.currentVersion).")
            try await embedded?.stopIfStartedHere()
        } catch {
            _ = try? await embedded?.stopIfStartedHere()
            throw CLIError(error)
        }
    }
}
