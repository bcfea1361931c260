import Foundation
import Logging
import PostgresNIO
@testable import TenantScopeCore
@testable import TenantScopePostgres

/// A primary with a real streaming read replica, both made by the product's own launcher (the replica with
/// `pg_basebackup -R`), for the tests of read routing. Each use gets its own pair in a fresh directory:
/// the tests pause, lag and stop the replica, which no other suite may see.
struct ReplicaCluster: Sendable {
    let primary: EmbeddedPostgres
    let replica: EmbeddedReplica
    /// The owner of the primary's database.
    let owner: DatabaseEndpoint
    /// Where the replica listens (for `ReplicaConfiguration`).
    let replicaEndpoint: DatabaseEndpoint
    /// The cluster superuser on each side: replay control and the replica's own view of itself.
    let primarySuperuser: DatabaseEndpoint
    let replicaSuperuser: DatabaseEndpoint

    /// Starts the pair, runs `body` with it and a migrated ``TestDatabase`` on the primary, then stops both.
    static func with<Result: Sendable>(_ body: (ReplicaCluster, TestDatabase) async throws -> Result) async throws -> Result {
        let root = try TestPostgres.makeTemporaryDirectory("replica-pair")
        let primary = EmbeddedPostgres(configuration: .init(stateDirectory: root, relaxedDurability: true), logger: TestDatabase.logger)
        let owner = try await primary.start()
        Watchdog.stopWhenThisProcessExits(dataDirectory: primary.dataDirectory)
        try await Migrator(ownerEndpoint: owner, logger: TestDatabase.logger).migrate()
        let replica = EmbeddedReplica(primary: primary, index: 1, logger: TestDatabase.logger)
        let replicaEndpoint = try await replica.start()
        Watchdog.stopWhenThisProcessExits(dataDirectory: replica.dataDirectory)
        let superuser = try await primary.superuserEndpoint()
        var replicaSuperuser = superuser
        replicaSuperuser.port = replicaEndpoint.port
        let cluster = ReplicaCluster(primary: primary, replica: replica, owner: owner, replicaEndpoint: replicaEndpoint,
                                     primarySuperuser: superuser, replicaSuperuser: replicaSuperuser)
        do {
            let admin = try await AdminDatabase.open(ownerEndpoint: owner, logger: TestDatabase.logger, limits: TestDatabase.limits)
            let handle = TestDatabase(database: admin.runtime, admin: admin, ownerEndpoint: owner, root: root)
            let result = try await admin.withRunningClients {
                try await TestDatabase.$provided.withValue(handle) { try await body(cluster, handle) }
            }
            try? await replica.stop()
            try? await primary.stop()
            return result
        } catch {
            try? await replica.stop()
            try? await primary.stop()
            throw error
        }
    }

    /// The replica configuration of this pair, probing often so tests see changes quickly. A measurement stays
    /// good for a minute: a full run's load once delayed probes past the default 3 s between a test's wait for
    /// a fit replica and its request (the staleness rule itself is `ReplicaSetTests`'). A replica connection may
    /// take 20 s and a probe a minute, not the defaults' 2 s and 5 s: a debug build opening its first
    /// connections while every suite starts can take longer, and a read that times out acquiring, or a probe
    /// that times out, sends reads to the primary, which a test would see as misrouting.
    func configuration(maximumLag: Duration = .seconds(10), acquireTimeout: Duration = .seconds(20)) -> ReplicaConfiguration {
        ReplicaConfiguration(endpoints: [replicaEndpoint], maximumLag: maximumLag, probeInterval: .milliseconds(200), acquireTimeout: acquireTimeout,
                             measurementMaximumAge: .seconds(60), probeTimeout: .seconds(60))
    }

    /// Waits (bounded) until the replica has replayed everything the primary has written so far.
    func waitUntilReplayed() async throws {
        let target = try await OneShotConnection.with(primarySuperuser, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT pg_current_wal_lsn()::text", logger: TestDatabase.logger).collect().first!.decode(String.self)
        }
        for _ in 0..<600 {
            let replayed = try await OneShotConnection.with(replicaSuperuser, logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT pg_last_wal_replay_lsn() >= \(target)::pg_lsn", logger: TestDatabase.logger)
                    .collect().first!.decode(Bool.self)
            }
            if replayed { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TestSetupError("the replica did not replay up to \(target) within a minute")
    }

    /// Stops (or resumes) applying WAL on the replica: it stays up and answers, falling behind.
    func setReplayPaused(_ paused: Bool) async throws {
        _ = try await OneShotConnection.with(replicaSuperuser, logger: TestDatabase.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: paused ? "SELECT pg_wal_replay_pause()" : "SELECT pg_wal_replay_resume()"),
                                       logger: TestDatabase.logger)
        }
    }

    /// Makes the replica's own pg_hba.conf refuse (or accept again) the tenant login, and reloads it; the
    /// primary is untouched. Connections already open stay open, as PostgreSQL keeps them.
    func setTenantLoginRefused(_ refused: Bool) async throws {
        let path = replica.dataDirectory + "/pg_hba.conf"
        let rule = "host all \(Database.tenantLoginRole) all reject"
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .filter { $0 != Substring(rule) }
        try ((refused ? [Substring(rule)] : []) + lines).joined(separator: "\n").write(toFile: path, atomically: false, encoding: .utf8)
        try await OneShotConnection.with(replicaSuperuser, logger: TestDatabase.logger) { connection in
            _ = try await connection.query("SELECT pg_reload_conf()", logger: TestDatabase.logger).collect()
        }
    }

    /// Waits (bounded) until `database`'s lag monitor finds the replica fit (`true`) or not (`false`).
    static func waitUntil(_ database: Database, replicaFit fit: Bool) async throws {
        guard let set = database.replicas else { throw TestSetupError("the database has no replicas") }
        for _ in 0..<600 {
            if set.isFit(set.replicas[0].measurement) == fit { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestSetupError("the replica's measurement never became \(fit ? "fit" : "unfit"): \(set.replicas[0].measurement)")
    }
}
