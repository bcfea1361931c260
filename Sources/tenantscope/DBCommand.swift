import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct DBCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "db", abstract: "The database: connection URL, embedded cluster start/stop, hardening script.",
        subcommands: [URLCommand.self, AppURL.self, Start.self, Stop.self, HardeningSQL.self]
    )

    struct URLCommand: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "url", abstract: "Print a connection URL for the owner role that psql accepts: psql \"$(tenantscope db url)\"."
        )

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            do {
                if let url = database.resolvedDatabaseURL {
                    print(try DatabaseEndpoint(url: url).url)
                    return
                }
                let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: database.resolvedStateDirectory), logger: Logger(label: "tenantscope"))
                print(try await embedded.ownerEndpoint().url)
                if try await !embedded.isRunning() {
                    progress("The embedded cluster is not running; start it with `tenantscope db start` or `tenantscope serve`.")
                }
            } catch {
                throw CLIError(error)
            }
        }
    }

    struct AppURL: DatabaseCommand {
        static let configuration = CommandConfiguration(
            commandName: "app-url",
            abstract: "Print the server role's connection URL (tenantscope_app), password included.",
            discussion: """
                Give it to `tenantscope serve --database-url` to run the server with no owner credentials at all: \
                serve then migrates nothing (run `tenantscope migrate` with the owner's URL on upgrades).
                """)

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> String {
            db.runtime.appEndpoint.url
        }

        func report(_ url: String) {
            print(url)
        }
    }

    struct Start: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Start the embedded PostgreSQL cluster (creating it if needed) and leave it running.",
            discussion: """
                With --replicas N it also starts N streaming read replicas of it, each made once with pg_basebackup -R \
                (as the postgres OS user) under <state-dir>/replicas/. Their URLs are printed after the primary's; give \
                them to `tenantscope serve --replica-url`, or run `tenantscope serve --replicas N`, which starts them itself.
                """)

        @OptionGroup var database: DatabaseOptions

        @Option(help: ArgumentHelp("Streaming read replicas to run next to the cluster.", valueName: "count"))
        var replicas = 0

        func validate() throws {
            guard (0...8).contains(replicas) else { throw ValidationError("--replicas takes 0 to 8, got \(replicas)") }
        }

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            guard database.resolvedDatabaseURL == nil else { throw ValidationError("db start manages the embedded cluster; it takes --state-dir, not a database URL") }
            let logger = Logger(label: "tenantscope")
            let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: database.resolvedStateDirectory), logger: logger)
            do {
                let endpoint = try await embedded.start(progress: progress)
                // The cluster is `db start`'s now, to be stopped by `db stop`: no `serve` adopts it, even one found
                // running after its `serve` was killed.
                await embedded.releaseServeOwnership()
                try await Migrator(ownerEndpoint: endpoint, logger: logger).migrate(progress: progress)
                print(endpoint.url)
                for replica in EmbeddedReplica.replicas(of: embedded, count: replicas, logger: logger) {
                    print(try await replica.start(progress: progress).replicaURL)
                }
            } catch {
                throw CLIError(error)
            }
        }
    }

    struct Stop: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Stop the embedded PostgreSQL cluster.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let logger = Logger(label: "tenantscope")
            let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: database.resolvedStateDirectory), logger: logger)
            do {
                // Replicas first: a replica whose primary went away first logs reconnection attempts until it stops.
                for replica in EmbeddedReplica.existing(of: embedded, logger: logger) {
                    try await replica.stop()
                }
                try await embedded.stop()
                progress("Stopped (or was not running).")
            } catch {
                throw CLIError(error)
            }
        }
    }

    struct HardeningSQL: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "hardening-sql",
            abstract: "Print the SQL a superuser runs once in an existing database before TenantScope can migrate it."
        )

        @Option(help: "The role that will own TenantScope's schema (the user of --database-url).")
        var owner: String

        func run() throws {
            print(ClusterHardening.statements(ownerRole: owner).map { $0 + ";" }.joined(separator: "\n"))
        }
    }
}
