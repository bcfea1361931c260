import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The dedicated clusters tenants can be placed on (architecture decision 49): an operator action from the
/// command line, as the control database's owner. Running servers open a cluster added here, and close one
/// removed, within seconds (decision 60).
public struct ClusterRegistry: Sendable {
    let ownerClient: PostgresClient

    /// A cluster as the operator sees it: never its passwords.
    public struct Cluster: Sendable, Hashable, Codable {
        public var name: ClusterName
        /// The region it serves; nil serves every region.
        public var region: String?
        /// Its server login's URL with the password masked; nil for the pool (this database).
        public var url: String?
        public var tenants: Int
    }

    /// Adds a dedicated cluster: migrates its database as `ownerEndpoint` (which must be a TenantScope-ready
    /// PostgreSQL database of its own, not the pool's), reads its server login's password, and records both.
    /// Refuses a name in use and a database that is the pool itself.
    public func add(_ name: ClusterName, ownerEndpoint: DatabaseEndpoint, region: String?, logger: Logger,
                    progress: @Sendable (String) -> Void = { _ in }) async throws -> Cluster {
        guard !name.isPool else { throw TenantScopeError.invalidInput("'pool' is the shared pool's name; choose another") }
        if let region { try Self.validate(region: region) }
        if try await ownerClient.query("SELECT 1 FROM app_private.clusters WHERE name = \(name.rawValue)", logger: logger)
            .collect().first != nil {
            throw TenantScopeError.conflict("a cluster named '\(name)' already exists")
        }
        progress("Migrating \(ownerEndpoint.redactedURL) ...")
        try await Migrator(ownerEndpoint: ownerEndpoint, logger: logger).migrate(progress: progress)
        let appEndpoint = try await Database.appEndpoint(ownerEndpoint: ownerEndpoint, logger: logger)
        // Each TenantScope database makes its own keys when first migrated: the same key means the same database.
        let theirKey = try await OneShotConnection.with(ownerEndpoint, logger: logger) { connection in
            try await connection.query("SELECT value FROM app_private.settings WHERE key = 'tenant_context_key'", logger: logger)
                .collect().first?.decode(String.self)
        }
        let ourKey = try await ownerClient.query("SELECT value FROM app_private.settings WHERE key = 'tenant_context_key'", logger: logger)
            .collect().first?.decode(String.self)
        guard theirKey != ourKey else {
            throw TenantScopeError.invalidInput("\(ownerEndpoint.redactedURL) is the pool's own database; a dedicated cluster needs its own")
        }
        try await ownerClient.query("""
            INSERT INTO app_private.clusters (name, region, host, port, database, tls, app_password, owner_user, owner_password)
            VALUES (\(name.rawValue), \(region), \(ownerEndpoint.host), \(ownerEndpoint.port), \(ownerEndpoint.database),
                    \(ownerEndpoint.tls.rawValue), \(appEndpoint.password ?? ""), \(ownerEndpoint.username), \(ownerEndpoint.password ?? ""))
            """, logger: logger)
        logger.notice("Cluster added", metadata: ["db.cluster": "\(name)"])
        return Cluster(name: name, region: region, url: appEndpoint.redactedURL, tenants: 0)
    }

    /// Removes a dedicated cluster from the control database: running servers close it at their next look, and
    /// its owner and server logins are forgotten. Refused for the pool, for an unknown name, and while any tenant is
    /// placed on it (move or delete them first): the tenants' foreign key to the cluster makes that refusal hold even
    /// against a tenant created on it at the same moment. The cluster's own database is left as it is.
    public func remove(_ name: ClusterName, logger: Logger) async throws -> Cluster {
        guard !name.isPool else { throw TenantScopeError.invalidInput("'pool' is the shared pool; it cannot be removed") }
        let removed: [PostgresRow]
        do {
            removed = try await ownerClient.query("""
                DELETE FROM app_private.clusters c
                WHERE c.name = \(name.rawValue) AND NOT EXISTS (SELECT 1 FROM app.tenants t WHERE t.cluster = c.name)
                RETURNING c.region
                """, logger: logger).collect()
        } catch let error as PSQLError where error.serverInfo?[.sqlState] == "23503" {
            throw Self.stillHoldsTenants(name)
        }
        guard let row = removed.first else {
            guard try await list(logger: logger).contains(where: { $0.name == name }) else {
                throw TenantScopeError.notFound("no cluster named '\(name)'")
            }
            throw Self.stillHoldsTenants(name)
        }
        logger.notice("Cluster removed", metadata: ["db.cluster": "\(name)"])
        return Cluster(name: name, region: try row.decode(String?.self), url: nil, tenants: 0)
    }

    private static func stillHoldsTenants(_ name: ClusterName) -> TenantScopeError {
        .conflict("tenants are placed on the cluster '\(name)'; move them to another cluster (tenantscope tenant move) or delete them first")
    }

    public func list(logger: Logger) async throws -> [Cluster] {
        try await ownerClient.query("""
            SELECT c.name, c.region, c.host, c.port, c.database, c.tls,
                   (SELECT count(*) FROM app.tenants t WHERE t.cluster = c.name)::bigint
            FROM app_private.clusters c ORDER BY c.name <> 'pool', c.name
            """, logger: logger).collect().map { row in
            let (name, region, host, port, database, tls, tenants) = try row.decode((String, String?, String?, Int?, String?, String?, Int).self)
            let url = host.map {
                DatabaseEndpoint(host: $0, port: port ?? 5432, username: Database.appRole, password: "***", database: database ?? "",
                                 tls: DatabaseEndpoint.TLSMode(rawValue: tls ?? "") ?? .require).url
            }
            return Cluster(name: try ClusterName(name), region: region, url: url, tenants: tenants)
        }
    }

    /// Sets the region a cluster serves (nil: every region). Refused while it holds tenants of another region.
    public func setRegion(of name: ClusterName, to region: String?, logger: Logger) async throws {
        if let region { try Self.validate(region: region) }
        do {
            let updated = try await ownerClient.query(
                "UPDATE app_private.clusters SET region = \(region) WHERE name = \(name.rawValue) RETURNING name", logger: logger).collect()
            guard !updated.isEmpty else { throw TenantScopeError.notFound("no cluster named '\(name)'") }
        } catch {
            throw ResidencyRefusal.conflict(from: error) ?? error
        }
    }

    /// The owner's endpoint of a dedicated cluster, for the operator's own work there (migrating it,
    /// placing and moving tenants). Nil for the pool and an unknown name.
    public func ownerEndpoint(of name: ClusterName, logger: Logger) async throws -> DatabaseEndpoint? {
        try await ownerClient.query("\(unescaped: Self.ownerEndpointsQuery) AND name = \(name.rawValue)", logger: logger)
            .collect().first.map(Self.decodeOwnerEndpoint)?.1
    }

    /// Every dedicated cluster's owner endpoint, by name (for the operator's checks of each, `verify-isolation`).
    public func dedicatedOwnerEndpoints(logger: Logger) async throws -> [(ClusterName, DatabaseEndpoint)] {
        try await ownerClient.query("\(unescaped: Self.ownerEndpointsQuery) ORDER BY name", logger: logger).collect().map(Self.decodeOwnerEndpoint)
    }

    /// What the owner endpoints of the dedicated clusters are read with (`name` and the endpoint's parts).
    static let ownerEndpointsQuery = "SELECT name, host, port, database, tls, owner_user, owner_password FROM app_private.clusters WHERE host IS NOT NULL"

    static func decodeOwnerEndpoint(_ row: PostgresRow) throws -> (ClusterName, DatabaseEndpoint) {
        let (name, host, port, database, tls, user, password) = try row.decode((String, String, Int, String, String, String, String).self)
        return (try ClusterName(name), DatabaseEndpoint(host: host, port: port, username: user, password: password.isEmpty ? nil : password,
                                                        database: database, tls: DatabaseEndpoint.TLSMode(rawValue: tls) ?? .require))
    }

    static func validate(region: String) throws {
        guard (1...64).contains(region.count), region.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
            throw TenantScopeError.invalidInput("a region is 1-64 letters, digits, '-' or '_'; got '\(region)'")
        }
    }
}
