import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// A private PostgreSQL cluster in a state directory, run from the system's PostgreSQL binaries.
///
/// Layout of the state directory:
/// - `embedded.json` (mode 0600): the port and the generated passwords;
/// - `postgres/data`: the cluster; `postgres/postgres.log`: its log.
///
/// As root, PostgreSQL refuses to run, so the cluster belongs to and runs as the `postgres` OS user;
/// the state directory must then be reachable by that user (for example under /var/lib or /tmp).
public actor EmbeddedPostgres {
    public struct Configuration: Sendable {
        public var stateDirectory: String
        /// Turns off fsync and synchronous commit: for throw-away test clusters only.
        public var relaxedDurability: Bool
        /// PostgreSQL's `max_connections`.
        public var maximumConnections: Int

        public init(stateDirectory: String, relaxedDurability: Bool = false, maximumConnections: Int = 100) {
            self.stateDirectory = stateDirectory
            self.relaxedDurability = relaxedDurability
            self.maximumConnections = maximumConnections
        }
    }

    /// The default state directory: `/var/lib/tenantscope` for root, else `$XDG_DATA_HOME/tenantscope`.
    public static func defaultStateDirectory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if ProcessRunner.isRoot { return "/var/lib/tenantscope" }
        let base = environment["XDG_DATA_HOME"].flatMap { $0.isEmpty ? nil : $0 }
            ?? (NSHomeDirectory() + "/.local/share")
        return base + "/tenantscope"
    }

    /// The role that owns the TenantScope schema in an embedded cluster (not a superuser, so RLS applies to it).
    public static let ownerRole = "tenantscope"
    public static let databaseName = "tenantscope"

    struct State: Codable {
        var port: Int
        var superuserPassword: String
        var ownerPassword: String
    }

    public let configuration: Configuration
    private let logger: Logger
    private var startedHere = false
    /// Set by ``claimForServe()``: this process is a `serve`, which records itself as the owner of a cluster it starts.
    private var recordsServeOwnership = false
    private let ownership: ServeOwnership

    public init(configuration: Configuration, logger: Logger) {
        self.configuration = configuration
        self.logger = logger
        self.ownership = ServeOwnership(stateDirectory: configuration.stateDirectory)
    }

    var stateFile: String { configuration.stateDirectory + "/embedded.json" }
    var clusterDirectory: String { configuration.stateDirectory + "/postgres" }
    public nonisolated var dataDirectory: String { configuration.stateDirectory + "/postgres/data" }
    var logFile: String { clusterDirectory + "/postgres.log" }

    /// Whether the cluster has been created in this state directory.
    public var isInitialized: Bool {
        FileManager.default.fileExists(atPath: stateFile)
    }

    /// The owner role's endpoint, from the saved state (the cluster need not be running).
    public func ownerEndpoint() throws -> DatabaseEndpoint {
        let state = try loadState()
        return DatabaseEndpoint(
            host: "127.0.0.1", port: state.port, username: Self.ownerRole, password: state.ownerPassword,
            database: Self.databaseName, tls: .disable
        )
    }

    /// The cluster superuser's endpoint (database `postgres`), for operator tooling that must create
    /// databases or replicas. The server itself never connects with it.
    public func superuserEndpoint() throws -> DatabaseEndpoint {
        let state = try loadState()
        return DatabaseEndpoint(
            host: "127.0.0.1", port: state.port, username: "postgres", password: state.superuserPassword,
            database: "postgres", tls: .disable
        )
    }

    /// True when a postmaster is running on this state directory's cluster.
    public func isRunning() async throws -> Bool {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") else { return false }
        let binaries = try PostgresBinaries.locate()
        return try await ProcessRunner.run(binaries.pgCtl, ["status", "-D", dataDirectory], asPostgresUser: true).status == 0
    }

    /// Whether the postmaster named in `postmaster.pid` is alive: a cheap check (no process spawned), for
    /// the supervisor's once-a-second look. A stale file of a crashed postmaster names a dead process.
    public func postmasterIsAlive() -> Bool {
        guard let text = try? String(contentsOfFile: dataDirectory + "/postmaster.pid", encoding: .utf8),
              let first = text.split(separator: "\n").first, let pid = pid_t(first.trimmingCharacters(in: .whitespaces)), pid > 0
        else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }

    /// Creates the cluster if needed, starts it unless it already runs, and returns the owner endpoint.
    ///
    /// - Parameter progress: receives one line per step, for the command line.
    @discardableResult
    public func start(progress: @Sendable (String) -> Void = { _ in }) async throws -> DatabaseEndpoint {
        let binaries = try PostgresBinaries.locate()
        try prepareDirectories()
        // One start of this state directory's cluster at a time, across processes: commands started together each ran
        // `pg_ctl start` and the bootstrap's `ALTER ROLE`, and failed one another (probe 38: "could not start server",
        // "tuple concurrently updated"). The second waits here, then finds the cluster running.
        let lock = await StartLock.acquire(configuration.stateDirectory + "/embedded.lock")
        defer { lock?.release() }
        var state = try loadOrCreateState()

        if !FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION") {
            progress("Creating a PostgreSQL cluster in \(dataDirectory) with \(binaries.directory)")
            try await initializeCluster(binaries, state: state)
        }

        if try await isRunning() {
            progress("PostgreSQL is already running on 127.0.0.1:\(state.port)")
            logger.info("Embedded PostgreSQL already running", metadata: ["postgres.port": "\(state.port)"])
        } else {
            try await endOrphanedServerProcesses(binaries)
            if FreePort.isInUse(state.port), let port = FreePort.find() {
                logger.notice("Embedded PostgreSQL port taken, moving", metadata: ["postgres.port": "\(port)"])
                state.port = port
                try saveState(state)
            }
            state.port = try await ClusterStart.run(
                what: "PostgreSQL", pgCtl: binaries.pgCtl, dataDirectory: dataDirectory, logFile: logFile, port: state.port,
                configure: { try writeServerSettings(port: $0) },
                moved: { port in
                    logger.notice("Embedded PostgreSQL port taken while starting, moving", metadata: ["postgres.port": "\(port)"])
                    state.port = port
                    try saveState(state)
                }, progress: progress)
            startedHere = true
            if recordsServeOwnership { recordOwnership() }
            logger.info("Embedded PostgreSQL started", metadata: ["postgres.port": "\(state.port)", "postgres.data": "\(dataDirectory)"])
        }

        try await bootstrap(state: state)
        return try ownerEndpoint()
    }

    /// Kills the server processes a dead postmaster left in the data directory (``OrphanedServerProcesses``), which
    /// would keep the cluster from starting; called only when no postmaster runs. Throws when one outlives the kill.
    private func endOrphanedServerProcesses(_ binaries: PostgresBinaries) async throws {
        let orphans = OrphanedServerProcesses.find(dataDirectory: dataDirectory, binaryDirectory: binaries.directory)
        guard !orphans.isEmpty, !postmasterIsAlive() else { return }
        logger.warning("Killing server processes a dead postmaster left behind", metadata: [
            "postgres.orphans": "\(orphans.map(String.init).joined(separator: ","))", "postgres.data": "\(dataDirectory)",
        ])
        let left = await OrphanedServerProcesses.terminate(orphans, dataDirectory: dataDirectory, binaryDirectory: binaries.directory)
        guard left.isEmpty else {
            throw TenantScopeError.environment(
                "server processes of a dead postmaster are still running in \(dataDirectory) (pids \(left.map(String.init).joined(separator: ", "))); "
                    + "PostgreSQL cannot start until they are gone")
        }
    }

    /// Stops the cluster with a fast shutdown (open transactions roll back, data is kept).
    public func stop() async throws {
        guard FileManager.default.fileExists(atPath: dataDirectory + "/PG_VERSION"), try await isRunning() else { return }
        let binaries = try PostgresBinaries.locate()
        let result = try await ProcessRunner.run(binaries.pgCtl, ["stop", "-D", dataDirectory, "-m", "fast", "-w", "-t", "60", "-s"], asPostgresUser: true)
        guard result.status == 0 else {
            throw TenantScopeError.environment("PostgreSQL did not stop (pg_ctl exit \(result.status)): \(result.output.trimmed)")
        }
        startedHere = false
        ownership.remove()
        logger.info("Embedded PostgreSQL stopped", metadata: ["postgres.data": "\(dataDirectory)"])
    }

    /// What a `serve` holds after ``claimForServe()``.
    public enum ServeClaim: Sendable {
        /// It started the cluster: it stops it when it exits.
        case started
        /// It found the cluster left running by a `serve` that is gone, and stops it when it exits.
        case adopted
        /// The cluster belongs to whoever started it: a running `serve`, or `db start`.
        case leftToItsOwner
    }

    /// Called once by `serve` after ``start(progress:)``: records this process as the owner of a cluster it started (and
    /// of any it starts again later), or adopts a cluster whose recorded owner is gone (a `serve` killed outright), so
    /// that this one stops it when it exits. A cluster with no record (`db start`'s) or a live owner is left alone.
    public func claimForServe() -> ServeClaim {
        recordsServeOwnership = true
        if startedHere {
            recordOwnership()
            return .started
        }
        guard ownership.ownerIsGone() else { return .leftToItsOwner }
        startedHere = true
        recordOwnership()
        logger.notice("Adopted the embedded PostgreSQL a stopped serve left running", metadata: ["postgres.data": "\(dataDirectory)"])
        return .adopted
    }

    /// `db start` started or found the cluster: it is stopped by `db stop`, and no `serve` may adopt it.
    public func releaseServeOwnership() {
        ownership.remove()
    }

    private func recordOwnership() {
        do {
            guard let owner = ServeOwnership.current() else { return }
            try ownership.write(owner)
        } catch {
            logger.warning("Could not record the serve owning the embedded PostgreSQL", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the cluster only if this instance started it, or started it again after it stopped: CLI commands leave a
    /// running server's cluster alone, and a second `serve` on the same state directory leaves it to the first.
    /// Returns whether it stopped it.
    @discardableResult
    public func stopIfStartedHere() async throws -> Bool {
        guard startedHere else { return false }
        try await stop()
        return true
    }

    // MARK: - Steps

    private func prepareDirectories() throws {
        let fm = FileManager.default
        do {
            try fm.createDirectory(atPath: configuration.stateDirectory, withIntermediateDirectories: true)
            if !fm.fileExists(atPath: clusterDirectory) {
                try fm.createDirectory(atPath: clusterDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
                try ProcessRunner.handToPostgresUser(clusterDirectory)
            }
        } catch let error as TenantScopeError {
            throw error
        } catch {
            throw TenantScopeError.environment("cannot create the state directory \(configuration.stateDirectory): \(error.localizedDescription)")
        }
        if ProcessRunner.isRoot, access(configuration.stateDirectory, X_OK) == 0 {
            // Every parent must be searchable by the postgres user, or it cannot reach its data directory.
            var path = URL(fileURLWithPath: configuration.stateDirectory).standardizedFileURL.path
            while path != "/" && !path.isEmpty {
                if let attributes = try? fm.attributesOfItem(atPath: path),
                   let mode = attributes[.posixPermissions] as? Int, mode & 0o001 == 0,
                   (attributes[.ownerAccountName] as? String) != "postgres" {
                    throw TenantScopeError.environment(
                        "the postgres OS user cannot reach \(clusterDirectory) because \(path) is not searchable by others; "
                            + "choose a state directory under /var/lib or /tmp with --state-dir"
                    )
                }
                path = (path as NSString).deletingLastPathComponent
            }
        }
    }

    private func loadState() throws -> State {
        guard let data = FileManager.default.contents(atPath: stateFile) else {
            throw TenantScopeError.environment(
                "no embedded database in \(configuration.stateDirectory) yet; start it with `tenantscope serve` or pass --database-url"
            )
        }
        do {
            return try JSONDecoder().decode(State.self, from: data)
        } catch {
            throw TenantScopeError.environment("\(stateFile) is unreadable: \(error)")
        }
    }

    private func loadOrCreateState() throws -> State {
        if FileManager.default.fileExists(atPath: stateFile) { return try loadState() }
        guard let port = FreePort.find() else { throw TenantScopeError.environment("no free TCP port on 127.0.0.1") }
        let state = State(port: port, superuserPassword: Self.randomSecret(), ownerPassword: Self.randomSecret())
        try saveState(state)
        return state
    }

    private func saveState(_ state: State) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        let data = try encoder.encode(state)
        guard FileManager.default.createFile(atPath: stateFile, contents: data, attributes: [.posixPermissions: 0o600]) else {
            throw TenantScopeError.environment("cannot write \(stateFile)")
        }
    }

    private func initializeCluster(_ binaries: PostgresBinaries, state: State) async throws {
        // initdb reads the superuser password from a file the postgres user can read; remove it right after.
        let passwordFile = clusterDirectory + "/initdb.pw"
        _ = FileManager.default.createFile(atPath: passwordFile, contents: Data(state.superuserPassword.utf8), attributes: [.posixPermissions: 0o600])
        try ProcessRunner.handToPostgresUser(passwordFile)
        defer { try? FileManager.default.removeItem(atPath: passwordFile) }

        let result = try await ProcessRunner.run(binaries.initdb, [
            "-D", dataDirectory, "-U", "postgres", "--pwfile=\(passwordFile)",
            "--auth-local=peer", "--auth-host=scram-sha-256", "--encoding=UTF8", "--locale=C", "--no-instructions",
        ], asPostgresUser: true)
        guard result.status == 0 else {
            throw TenantScopeError.environment("initdb failed (exit \(result.status)): \(result.output.trimmed)")
        }
        let include = "\n# Written by TenantScope: port, listen address and durability live in tenantscope.conf.\ninclude 'tenantscope.conf'\n"
        guard let handle = FileHandle(forWritingAtPath: dataDirectory + "/postgresql.conf") else {
            throw TenantScopeError.environment("cannot open \(dataDirectory)/postgresql.conf")
        }
        handle.seekToEndOfFile()
        handle.write(Data(include.utf8))
        handle.closeFile()
    }

    private func writeServerSettings(port: Int) throws {
        try Self.writeServerSettings(port: port, configuration: configuration, dataDirectory: dataDirectory)
    }

    /// Writes `tenantscope.conf` (included by `postgresql.conf`) into `dataDirectory`: the primary's and,
    /// with `standby`, a replica's (which also tells the primary what it still reads, so vacuum on the
    /// primary does not cancel a replica's long report).
    static func writeServerSettings(port: Int, configuration: Configuration, dataDirectory: String, standby: Bool = false) throws {
        var lines = [
            "listen_addresses = '127.0.0.1'",
            "port = \(port)",
            "unix_socket_directories = ''",
            "max_connections = \(configuration.maximumConnections)",
            "log_min_messages = warning",
        ]
        if configuration.relaxedDurability {
            lines += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        }
        if standby {
            lines += ["hot_standby = on", "hot_standby_feedback = on"]
        }
        let path = dataDirectory + "/tenantscope.conf"
        guard FileManager.default.createFile(atPath: path, contents: Data((lines.joined(separator: "\n") + "\n").utf8)) else {
            throw TenantScopeError.environment("cannot write \(path)")
        }
        try ProcessRunner.handToPostgresUser(path)
    }

    /// Creates the owner role and database and applies the cluster hardening, as the superuser.
    ///
    /// Idempotent: runs at every start so a cluster created by an older version is brought up to date.
    private func bootstrap(state: State) async throws {
        let superuser = DatabaseEndpoint(
            host: "127.0.0.1", port: state.port, username: "postgres", password: state.superuserPassword,
            database: "postgres", tls: .disable
        )
        try await OneShotConnection.with(superuser, logger: logger) { connection in
            let owner = Self.ownerRole
            let roleExists = try await connection.query("SELECT 1 FROM pg_roles WHERE rolname = \(owner)", logger: logger)
                .collect().count > 0
            // Role names and the hex password are our own constants, never user input, so splicing is safe here.
            if !roleExists {
                try await connection.query(PostgresQuery(unsafeSQL: "CREATE ROLE \(owner) LOGIN CREATEROLE"), logger: logger)
            }
            try await connection.query(PostgresQuery(unsafeSQL: "ALTER ROLE \(owner) PASSWORD '\(state.ownerPassword)'"), logger: logger)
            let databaseExists = try await connection.query(
                "SELECT 1 FROM pg_database WHERE datname = \(Self.databaseName)", logger: logger
            ).collect().count > 0
            if !databaseExists {
                try await connection.query(
                    PostgresQuery(unsafeSQL: "CREATE DATABASE \(Self.databaseName) OWNER \(owner)"), logger: logger
                )
            }
        }
        var target = superuser
        target.database = Self.databaseName
        try await OneShotConnection.with(target, logger: logger) { connection in
            // Once in force, nothing to do. Otherwise in one transaction that takes the migrator's lock: another
            // command's migrations grant on the same catalog functions, and the two updating one row failed one of them
            // ("tuple concurrently updated", probe 38).
            // Checked as the owner, as the migrator checks it: the superuser holds every parameter privilege itself.
            try await connection.query("BEGIN", logger: logger)
            try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL ROLE \(Self.ownerRole)"), logger: logger)
            let hardened = try await connection.query(PostgresQuery(unsafeSQL: ClusterHardening.verificationQuery), logger: logger)
                .collect().first?.decode(Bool?.self) ?? nil
            try await connection.query("ROLLBACK", logger: logger)
            guard hardened != true else { return }
            try await connection.query("BEGIN", logger: logger)
            do {
                try await connection.query("SELECT pg_advisory_xact_lock(7311046, 1)", logger: logger)
                for statement in ClusterHardening.statements(ownerRole: Self.ownerRole) {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("COMMIT", logger: logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: logger)
                throw error
            }
        }
    }

    static func randomSecret() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255, using: &generator)) }.joined()
    }
}

extension String {
    var trimmed: String { trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// An exclusive `flock` on a file of the state directory, held while a process starts the embedded cluster. Advisory:
/// every `tenantscope` process takes it before it starts the cluster. Nil when the file cannot be opened (a read-only
/// state directory): the start then goes on unserialized, as before.
private struct StartLock: Sendable {
    let descriptor: Int32

    static func acquire(_ path: String) async -> StartLock? {
        let descriptor = open(path, O_CREAT | O_RDWR | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return nil }
        // flock blocks its thread while another process starts the cluster: off the cooperative pool.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                while flock(descriptor, LOCK_EX) != 0 && errno == EINTR {}
                done.resume()
            }
        }
        return StartLock(descriptor: descriptor)
    }

    func release() {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }
}
