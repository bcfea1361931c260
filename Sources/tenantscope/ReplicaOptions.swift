import ArgumentParser
import Foundation
import Logging
import TenantScopePostgres

/// `serve`'s read replicas: given by URL, or made and run next to the embedded cluster.
struct ReplicaOptions: ParsableArguments {
    @Option(name: .customLong("replica-url"), help: ArgumentHelp(
        "A streaming read replica of the database, e.g. postgresql://replica.example.com:5432/tenantscope (repeatable). Reports, SQL and exports read from it; the server logs in with its own roles, whatever user the URL names.",
        valueName: "url"))
    var replicaURLs: [String] = []

    @Option(help: ArgumentHelp(
        "With the embedded database: run this many streaming read replicas next to it, made with pg_basebackup on first use (see `tenantscope db start --replicas`).",
        valueName: "count"))
    var replicas = 0

    @Option(help: ArgumentHelp(
        "Seconds a replica may be behind the primary before reads skip it and go to the primary.", valueName: "seconds"))
    var replicaMaxLag: Double = Double(ReplicaConfiguration.defaultMaximumLag.components.seconds)

    func validate() throws {
        guard (0...8).contains(replicas) else { throw ValidationError("--replicas takes 0 to 8, got \(replicas)") }
        guard replicaMaxLag >= 0.1, replicaMaxLag <= 3600 else {
            throw ValidationError("--replica-max-lag takes seconds between 0.1 and 3600, got \(replicaMaxLag)")
        }
        for url in replicaURLs {
            guard url.hasPrefix("postgresql://") || url.hasPrefix("postgres://") else {
                throw ValidationError("--replica-url takes a postgresql:// URL, got '\(url.prefix(80))'")
            }
        }
    }

    /// The embedded replicas to run (none with `--database-url`).
    func embeddedReplicas(of embedded: EmbeddedPostgres?, logger: Logger) throws -> [EmbeddedReplica] {
        guard replicas > 0 else { return [] }
        guard let embedded else {
            throw ValidationError("--replicas runs replicas of the embedded database; with --database-url give each replica with --replica-url")
        }
        return EmbeddedReplica.replicas(of: embedded, count: replicas, logger: logger)
    }

    /// Starts the embedded replicas (making them first if needed) and returns the replica configuration of
    /// those and of `--replica-url`; nil when there are none.
    func configuration(primary: DatabaseEndpoint, embedded: [EmbeddedReplica]) async throws -> ReplicaConfiguration? {
        var endpoints: [DatabaseEndpoint] = []
        for replica in embedded { endpoints.append(try await replica.start(progress: progress)) }
        for url in replicaURLs { endpoints.append(try ReadReplica.endpoint(url: url, primary: primary)) }
        guard !endpoints.isEmpty else { return nil }
        return ReplicaConfiguration(endpoints: endpoints, maximumLag: .milliseconds(Int64(replicaMaxLag * 1000)))
    }
}
