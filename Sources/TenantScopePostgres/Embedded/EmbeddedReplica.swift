import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// A streaming read replica of the embedded cluster, in `<state>/replicas/<n>/`: made once with
/// `pg_basebackup -R` (as the `postgres` OS user), then started and stopped like the primary.
///
/// It replicates as `tenantscope_replication`, a login with the REPLICATION attribute only (not the
/// superuser), whose generated password is kept in `<state>/replicas/replication.json` (mode 0600) and in
/// the replica's `primary_conninfo`. Being a byte copy, the replica has the primary's roles, keys and
/// row-level security; it is read only (hot standby) and tells the primary what its queries still read
/// (`hot_standby_feedback`), so the primary's vacuum does not cancel a long report there.
public actor EmbeddedReplica {
    public static let replicationRole = "tenantscope_replication"

    public let primary: EmbeddedPostgres
    /// 1, 2, ...: the replica's place in `--replicas N`.
    public let index: Int
    private let logger: Logger
    private var startedHere = false

    public init(primary: EmbeddedPostgres, index: Int, logger: Logger) {
        self.primary = primary
        self.index = index
        self.logger = logger
    }

    /// The replicas `1...count` of `primary`.
    public static func replicas(of primary: EmbeddedPostgres, count: Int, logger: Logger) -> [EmbeddedReplica] {
        count > 0 ? (1...count).map { EmbeddedReplica(primary: primary, index: $0, logger: logger) } : []
    }

    struct State: Codable {
        var port: Int
    }

    struct Replication: Codable {
        var password: String
    }

    public nonisolated var name: String { "replica-\(index)" }
    nonisolated var replicasDirectory: String { primary.configuration.stateDirectory + "/replicas" }
    nonisolated var directory: String { replicasDirectory + "/\(index)" }
    nonisolated var clusterDirectory: String { directory + "/postgres" }
    public nonisolated var dataDirectory: String { clusterDirectory + "/data" }
    nonisolated var logFile: String { clusterDirectory + "/postgres.log" }
    nonisolated var stateFile: String { directory + "/replica.json" }
    nonisolated var replicationFile: String { replicasDirectory + "/replication.json" }

    /// Where the replica listens (database `tenantscope`; the server logs in with its own roles).
    public func endpoint() throws -> DatabaseEndpoint {
        guard let data = FileManager.default.contents(atPath: stateFile), let state = try? JSONDecoder().decode(State.self, from: data) else {
            throw TenantScopeError.environment("no replica in \(directory) yet; create it with `tenantscope db start --replicas \(index)`")
        }
        return DatabaseEndpoint(host: "127.0.0.1", port: state.port, username: Database.appRole, password: nil,
                                database: EmbeddedPostgres.databaseName, tls: .disable)
    }

    public func isRunning() async throws -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return false }
        return try await ProcessRunner.run(try PostgresBinaries.locate().pgCtl, ["status", "-D", dataDirectory], asPostgresUser: true).status == 0
    }

    /// Creates the replica from the running primary if it does not exist yet, starts it unless it runs,
    /// and returns its endpoint. The primary must be running.
    @discardableResult
    public func start(progress: @Sendable (String) -> Void = { _ in }) async throws -> DatabaseEndpoint {
        let binaries = try PostgresBinaries.locate()
        var state = try loadOrCreateState()
        if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            progress("Creating read replica \(name) in \(dataDirectory) with pg_basebackup")
            try await create(binaries)
        }
        if try await isRunning() {
            progress("Read replica \(name) is already running on 127.0.0.1:\(state.port)")
        } else {
            if FreePort.isInUse(state.port), let port = FreePort.find() {
                state.port = port
                try save(state, to: stateFile)
            }
            try await followPrimaryPort()
            state.port = try await ClusterStart.run(
                what: "read replica \(name)", pgCtl: binaries.pgCtl, dataDirectory: dataDirectory, logFile: logFile, port: state.port,
                configure: { [primary, dataDirectory] port in
                    try EmbeddedPostgres.writeServerSettings(port: port, configuration: primary.configuration, dataDirectory: dataDirectory,
                                                             standby: true)
                },
                moved: { port in
                    logger.notice("Read replica port taken while starting, moving", metadata: ["db.replica": "\(name)", "postgres.port": "\(port)"])
                    state.port = port
                    try save(state, to: stateFile)
                }, progress: progress)
            startedHere = true
            logger.info("Embedded read replica started", metadata: ["db.replica": "\(name)", "postgres.port": "\(state.port)"])
        }
        return try endpoint()
    }

    /// Stops the replica (fast shutdown); its data stays, and it catches up from the primary when started again.
    public func stop() async throws {
        guard try await isRunning() else { return }
        let result = try await ProcessRunner.run(try PostgresBinaries.locate().pgCtl, ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "-s"],
                                                 asPostgresUser: true)
        guard result.status == 0 else {
            throw TenantScopeError.environment("read replica \(name) did not stop (pg_ctl exit \(result.status)): \(result.output.trimmed)")
        }
        startedHere = false
    }

    /// Stops the replica only if this instance started it. Returns whether it stopped it.
    @discardableResult
    public func stopIfStartedHere() async throws -> Bool {
        guard startedHere else { return false }
        try await stop()
        return true
    }

    /// Points the replica's `primary_conninfo` (written once by `pg_basebackup -R` into `postgresql.auto.conf`) at
    /// the primary's current port. The primary moves to another port when its own is taken as it starts; a replica
    /// still asking the old one would serve ever older rows, and reads would fall back to the primary for good.
    private func followPrimaryPort() async throws {
        let path = dataDirectory + "/postgresql.auto.conf"
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else { return }
        let port = try await primary.superuserEndpoint().port
        let updated = Self.settings(text, withPrimaryPort: port)
        guard updated != text else { return }
        guard FileManager.default.createFile(atPath: path, contents: Data(updated.utf8), attributes: [.posixPermissions: 0o600]) else {
            throw TenantScopeError.environment("cannot write \(path)")
        }
        try ProcessRunner.handToPostgresUser(path)
        logger.notice("Read replica follows the primary's new port", metadata: ["db.replica": "\(name)", "postgres.port": "\(port)"])
    }

    /// `autoConf` with the port of its `primary_conninfo` set to `port`; every other line as it was.
    static func settings(_ autoConf: String, withPrimaryPort port: Int) -> String {
        autoConf.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard line.hasPrefix("primary_conninfo") else { return String(line) }
            return String(line.replacing(/([ '])port=[0-9]+/) { match in "\(match.1)port=\(port)" })
        }.joined(separator: "\n")
    }

    // MARK: - Creation

    private func create(_ binaries: PostgresBinaries) async throws {
        guard try await primary.isRunning() else {
            throw TenantScopeError.environment("the embedded primary must run before its replica is made; start it with `tenantscope db start`")
        }
        let password = try await replicationPassword()
        let fm = FileManager.default
        try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        if !fm.fileExists(atPath: clusterDirectory) {
            try fm.createDirectory(atPath: clusterDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        try ProcessRunner.handToPostgresUser(clusterDirectory)
        let source = try await primary.superuserEndpoint()
        // -R writes standby.signal and primary_conninfo (with the replication password, in the replica's own
        // 0600 postgresql.auto.conf); -X stream copies the WAL written during the backup alongside it.
        let result = try await ProcessRunner.run(binaries.pgBasebackup, [
            "-h", source.host, "-p", "\(source.port)", "-U", Self.replicationRole, "-D", dataDirectory,
            "-R", "-X", "stream", "-c", "fast", "--no-password",
        ], asPostgresUser: true, environment: ["PGPASSWORD": password, "PGAPPNAME": name])
        guard result.status == 0 else {
            try? fm.removeItem(atPath: dataDirectory)
            throw TenantScopeError.environment("pg_basebackup failed for \(name) (exit \(result.status)): \(result.output.trimmed)")
        }
        logger.info("Embedded read replica created", metadata: ["db.replica": "\(name)", "postgres.data": "\(dataDirectory)"])
    }

    /// The replication login's password, creating the login on the primary the first time.
    private func replicationPassword() async throws -> String {
        let fm = FileManager.default
        try fm.createDirectory(atPath: replicasDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        let replication: Replication
        if let data = fm.contents(atPath: replicationFile), let saved = try? JSONDecoder().decode(Replication.self, from: data) {
            replication = saved
        } else {
            replication = Replication(password: EmbeddedPostgres.randomSecret())
            try save(replication, to: replicationFile)
        }
        let superuser = try await primary.superuserEndpoint()
        try await OneShotConnection.with(superuser, logger: logger) { connection in
            let exists = try await connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(Self.replicationRole)", logger: logger)
                .collect().count > 0
            // Our own constant name and a hex password: never user input.
            let verb = exists ? "ALTER" : "CREATE"
            try await connection.query(PostgresQuery(unsafeSQL: """
                \(verb) ROLE \(Self.replicationRole) LOGIN REPLICATION NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD '\(replication.password)'
                """), logger: logger)
        }
        return replication.password
    }

    private func loadOrCreateState() throws -> State {
        if let data = FileManager.default.contents(atPath: stateFile), let state = try? JSONDecoder().decode(State.self, from: data) {
            return state
        }
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o755])
        guard let port = FreePort.find() else { throw TenantScopeError.environment("no free TCP port on 127.0.0.1") }
        let state = State(port: port)
        try save(state, to: stateFile)
        return state
    }

    private func save(_ value: some Encodable, to path: String) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        guard FileManager.default.createFile(atPath: path, contents: try encoder.encode(value), attributes: [.posixPermissions: 0o600]) else {
            throw TenantScopeError.environment("cannot write \(path)")
        }
    }

}

extension EmbeddedReplica {
    /// The replicas made so far in `primary`'s state directory.
    public static func existing(of primary: EmbeddedPostgres, logger: Logger) -> [EmbeddedReplica] {
        let directory = primary.configuration.stateDirectory + "/replicas"
        let indexes = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).compactMap(Int.init).sorted()
        return indexes.map { EmbeddedReplica(primary: primary, index: $0, logger: logger) }
    }
}

extension DatabaseEndpoint {
    /// A replica's URL without credentials (the server logs in with its own roles): for `--replica-url`.
    public var replicaURL: String {
        "postgresql://\(host):\(port)/\(database)?sslmode=\(tls.rawValue)"
    }
}
