import Foundation

/// Runs a command to completion and returns its exit status, standard output and standard error.
enum Shell {
    struct Result: Sendable {
        let status: Int32
        let output: String
        let error: String
    }

    /// Runs `executable` with `environment` (this process's by default).
    ///
    /// Output goes to temporary files, read afterwards. Not pipes: a child that starts a daemon
    /// (`db start`) would hand it the pipe's write end, and a read to end-of-file would then wait as
    /// long as the daemon lives. `bound` is a hang detector: past it the command is killed and this
    /// throws.
    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = ProcessInfo.processInfo.environment,
                    mergingStandardError: Bool = false, bound: Duration = .seconds(600)) async throws -> Result {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantscope-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputPath = directory.appendingPathComponent("stdout").path
        let errorPath = directory.appendingPathComponent("stderr").path
        let child = try ChildProcess.start(executable, arguments,
                                           environment: environment,
                                           outputPath: outputPath, errorPath: mergingStandardError ? nil : errorPath)
        let status = try await child.exit(within: bound)
        let text = { (path: String) in (try? String(contentsOfFile: path, encoding: .utf8)) ?? "" }
        return Result(status: status, output: text(outputPath), error: text(errorPath))
    }
}
