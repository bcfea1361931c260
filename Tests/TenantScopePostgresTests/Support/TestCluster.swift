import Foundation
import Logging
import PostgresNIO
@testable import TenantScopeCore
@testable import TenantScopePostgres

/// One real PostgreSQL cluster per test process, started through the product's own launcher.
///
/// It lives in a fresh directory under `$TENANTSCOPE_TEST_ROOT` (or the system temp directory), on a
/// port the kernel hands out, so parallel test runs never collide. It is stopped when the process exits.
actor TestCluster {
    static let shared = TestCluster()

    struct Handle: Sendable {
        let database: Database
        let ownerEndpoint: DatabaseEndpoint
        let root: String
    }

    private var handle: Task<Handle, any Error>?

    static let logger: Logger = {
        var logger = Logger(label: "tenantscope-tests")
        logger.logLevel = .warning
        return logger
    }()

    /// A fresh temporary directory (reachable by the `postgres` OS user when we run as root).
    static func makeTemporaryDirectory(_ name: String) throws -> String {
        let base = ProcessInfo.processInfo.environment["TENANTSCOPE_TEST_ROOT"].flatMap { $0.isEmpty ? nil : $0 }
            ?? FileManager.default.temporaryDirectory.path
        let path = "\(base)/\(name)-\(getpid())-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        // The postgres OS user must traverse into it. Only the test root is ours to open up: the system
        // temporary directory must keep its own mode (1777).
        if ProcessInfo.processInfo.environment["TENANTSCOPE_TEST_ROOT"].map({ !$0.isEmpty }) == true { chmod(base, 0o755) }
        chmod(path, 0o755)
        return path
    }

    func start() async throws -> Handle {
        if let handle { return try await handle.value }
        let task = Task { () throws -> Handle in
            let root = try Self.makeTemporaryDirectory("tenantscope-test")
            let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: root, relaxedDurability: true), logger: Self.logger)
            let endpoint = try await embedded.start()
            StopAtExit.register(dataDirectory: root + "/postgres/data")
            let database = try await Database.prepare(ownerEndpoint: endpoint, logger: Self.logger)
            // The pools run for the rest of the process; the cluster stops at exit.
            Task.detached { try await database.withRunningClients { try await Task.sleep(for: .seconds(86_400 * 365)) } }
            return Handle(database: database, ownerEndpoint: endpoint, root: root)
        }
        handle = task
        return try await task.value
    }
}

/// Stops test clusters when the test process exits, so no postmaster outlives the run.
enum StopAtExit {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var directories: [String] = []
    nonisolated(unsafe) private static var registered = false

    static func register(dataDirectory: String) {
        lock.lock()
        defer { lock.unlock() }
        directories.append(dataDirectory)
        if !registered {
            registered = true
            atexit {
                StopAtExit.lock.lock()
                let all = StopAtExit.directories
                StopAtExit.lock.unlock()
                for directory in all { StopAtExit.stopNow(directory) }
            }
        }
    }

    static func stopNow(_ dataDirectory: String) {
        guard let binaries = try? PostgresBinaries.locate() else { return }
        let runAsPostgres = geteuid() == 0
        let process = Process()
        process.executableURL = URL(fileURLWithPath: runAsPostgres ? "/usr/sbin/runuser" : binaries.pgCtl)
        process.arguments = (runAsPostgres ? ["-u", "postgres", "--", binaries.pgCtl] : [])
            + ["stop", "-D", dataDirectory, "-m", "immediate", "-s"]
        process.currentDirectoryURL = URL(fileURLWithPath: "/")
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try? process.run()
        process.waitUntilExit()
    }
}
