import Foundation
@testable import TenantScopePostgres

/// A real `tenantscope serve` on the embedded PostgreSQL of a private state directory, as a service
/// manager runs it: started, read for its URL, signalled, restarted on the same state directory.
///
/// Its output goes to `<root>/<name>.log` (one file per start, so a restart's lines are its own).
final class ServeProcess: @unchecked Sendable {
    /// The test's directory: `state/` and the logs.
    let root: String
    let stateDirectory: String
    let logPath: String
    let baseURL: String
    private let process: ChildProcess

    private init(root: String, stateDirectory: String, logPath: String, baseURL: String, process: ChildProcess) {
        self.root = root
        self.stateDirectory = stateDirectory
        self.logPath = logPath
        self.baseURL = baseURL
        self.process = process
    }

    var pid: pid_t { process.pid }
    var isRunning: Bool { process.isRunning }
    /// The exit status (128 + signal when killed), -1 while serve runs.
    var terminationStatus: Int32 { process.exitStatus ?? -1 }
    var dataDirectory: String { stateDirectory + "/postgres/data" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    /// A fresh root for a test's state directory and logs, searchable by the postgres OS user.
    static func makeRoot(_ name: String) throws -> String {
        try TestPostgres.makeTemporaryDirectory(name)
    }

    /// Starts `serve --state-dir <root>/state --port 0 <arguments>` and waits (bounded, as a hang
    /// detector) for the line that names its URL. Throws with the log when serve exits first.
    static func start(root: String, logName: String = "serve", arguments: [String] = []) async throws -> ServeProcess {
        let stateDirectory = root + "/state"
        let logPath = root + "/\(logName).log"
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        let process = try ChildProcess.start(TenantScopeBinary.path, ["serve", "--state-dir", stateDirectory, "--port", "0"] + arguments,
                                             environment: environment, outputPath: logPath)
        // Should the test process die, serve must go first (its supervisor would restart the cluster).
        Watchdog.stopWhenThisProcessExits(dataDirectory: stateDirectory + "/postgres/data", killingServer: process.pid)

        let deadline = ContinuousClock.now + .seconds(180)
        while ContinuousClock.now < deadline {
            let text = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
            if let line = text.split(separator: "\n").first(where: { $0.hasPrefix("TenantScope is running at ") }),
               let url = line.split(separator: " ").dropFirst(4).first {
                return ServeProcess(root: root, stateDirectory: stateDirectory, logPath: logPath, baseURL: String(url), process: process)
            }
            if let status = process.exitStatus { throw ServeProcessError("serve exited (\(status)) before listening:\n\(text)") }
            try await Task.sleep(for: .milliseconds(100))
        }
        process.send(SIGTERM)
        throw ServeProcessError("serve did not listen within 180 s:\n\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
    }

    /// Sends `signal` (SIGTERM as a service manager's stop, SIGKILL as a crash).
    func send(_ signal: Int32) {
        process.send(signal)
    }

    /// Waits until serve has exited; false when it still runs after `bound`.
    func waitForExit(within bound: Duration) async -> Bool {
        await process.waitForExit(within: bound) != nil
    }

    /// Stops serve (SIGTERM, then SIGKILL after 60 s) and the embedded cluster, whatever state the
    /// test left them in: the end of every test, passed or failed.
    func shutDown() async {
        if isRunning {
            send(SIGTERM)
            if await !waitForExit(within: .seconds(60)) { send(SIGKILL); _ = await waitForExit(within: .seconds(10)) }
        }
        // After a SIGKILL of serve, or a failure, the cluster may still run or be stopped (SIGSTOP).
        ClusterProcesses.signalAll(dataDirectory: dataDirectory, SIGCONT)
        let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: stateDirectory), logger: TestDatabase.logger)
        for replica in EmbeddedReplica.existing(of: embedded, logger: TestDatabase.logger) { try? await replica.stop() }
        try? await embedded.stop()
    }

    /// The superuser's endpoint on the TenantScope database of this state directory: counts in tests
    /// look past row-level security and the server's own code.
    func superuserEndpoint() async throws -> DatabaseEndpoint {
        var endpoint = try await EmbeddedPostgres(configuration: .init(stateDirectory: stateDirectory), logger: TestDatabase.logger)
            .superuserEndpoint()
        endpoint.database = EmbeddedPostgres.databaseName
        return endpoint
    }
}
