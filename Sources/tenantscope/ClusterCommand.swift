import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Manage the PostgreSQL clusters tenants are placed on: the shared pool and dedicated clusters.",
        discussion: """
            Every tenant lives on the shared pool (the database tenantscope is configured with) unless it is created on a \
            dedicated cluster (`tenantscope tenant create --cluster NAME`) or moved to one (`tenantscope tenant move`). \
            Running servers open a cluster added here, and close one removed, within seconds; no restart is needed.
            """,
        subcommands: [Add.self, List.self, Region.self, Remove.self]
    )

    struct Add: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a dedicated cluster: migrate its database and record how to reach it.",
            discussion: """
                The URL is an owner login of an empty database on another PostgreSQL server, prepared like the pool's \
                (`tenantscope db hardening-sql`). Its owner and server logins are kept in the pool's private schema, \
                which only the pool's owner reads.
                """)

        @Argument(help: "The cluster's name: 2-32 lower-case letters, digits and '-', starting with a letter.")
        var name: String

        @Option(name: .customLong("cluster-database-url"), help: ArgumentHelp("The dedicated cluster's owner URL.", valueName: "url"))
        var clusterDatabaseURL: String

        @Option(help: "The region it serves: only tenants of this region may be placed on it (default: any region).")
        var region: String?

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseClusterName(name)
            do { _ = try DatabaseEndpoint(url: clusterDatabaseURL) } catch { throw ValidationError("\(error)") }
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> ClusterRegistry.Cluster {
            let cluster = try await db.clusters.add(try parseClusterName(name), ownerEndpoint: try DatabaseEndpoint(url: clusterDatabaseURL),
                                                    region: region, logger: logger) { FileHandle.standardError.write(Data(($0 + "\n").utf8)) }
            try await db.runtime.audit.append(.operatorAction("cluster_added", tenant: nil, parameters: [
                "cluster": cluster.name.rawValue, "region": region ?? "",
            ]), logger: logger)
            return cluster
        }

        func report(_ cluster: ClusterRegistry.Cluster) {
            print("Added cluster \(cluster.name)\(cluster.region.map { " (region \($0))" } ?? ""). Running servers open it within seconds.")
        }
    }

    struct List: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "List the clusters, their regions and how many tenants each holds.")

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> [ClusterRegistry.Cluster] {
            try await db.clusters.list(logger: logger)
        }

        func report(_ clusters: [ClusterRegistry.Cluster]) {
            printTable([["CLUSTER", "REGION", "TENANTS", "SERVER LOGIN"]] + clusters.map {
                [$0.name.rawValue, $0.region ?? "any", String($0.tenants), $0.url ?? "(this database)"]
            })
        }
    }

    struct Remove: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a dedicated cluster that holds no tenants; running servers close it within seconds.",
            discussion: """
                Refused while any tenant is placed on the cluster: move them elsewhere (`tenantscope tenant move`) or \
                delete them first. Its logins are forgotten; its database is left as it is, for you to drop or keep.
                """)

        @Argument(help: "The dedicated cluster's name.")
        var name: String

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseClusterName(name)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> ClusterRegistry.Cluster {
            let cluster = try await db.clusters.remove(try parseClusterName(name), logger: logger)
            try await db.runtime.audit.append(.operatorAction("cluster_removed", tenant: nil, parameters: [
                "cluster": cluster.name.rawValue,
            ]), logger: logger)
            return cluster
        }

        func report(_ cluster: ClusterRegistry.Cluster) {
            print("Removed cluster \(cluster.name). Running servers close it within seconds; its database was not touched.")
        }
    }

    struct Region: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set the region a cluster serves, or `any`.",
            discussion: "Refused while the cluster holds tenants of another region.")

        @Argument(help: "The cluster's name (`pool` for the shared pool).")
        var name: String

        @Argument(help: "The region, or `any`.")
        var region: String

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseClusterName(name)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> String {
            let cluster = try parseClusterName(name)
            let region = self.region == "any" ? nil : self.region
            try await db.clusters.setRegion(of: cluster, to: region, logger: logger)
            try await db.runtime.audit.append(.operatorAction("cluster_region_set", tenant: nil, parameters: [
                "cluster": cluster.rawValue, "region": region ?? "any",
            ]), logger: logger)
            return "Cluster \(cluster) now serves \(region.map { "the region \($0)" } ?? "every region")."
        }

        func report(_ message: String) {
            print(message)
        }
    }
}

/// Parses a cluster name from the command line, as a usage error when it is malformed.
func parseClusterName(_ text: String) throws -> ClusterName {
    do { return try ClusterName(text) } catch { throw ValidationError(error.description) }
}
