import Foundation

/// Runs a command to completion on a thread of its own (never a cooperative-pool thread) and returns
/// its exit status, standard output and standard error.
enum Shell {
    struct Result: Sendable {
        let status: Int32
        let output: String
        let error: String
    }

    static func run(_ executable: String, _ arguments: [String], environment: [String: String] = [:]) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Swift.Result { try runBlocking(executable, arguments, environment: environment) })
            }
        }
    }

    private static func runBlocking(_ executable: String, _ arguments: [String], environment: [String: String]) throws -> Result {
        let (status, output, error) = try runCapturing(executable, arguments,
                                                       environment: ProcessInfo.processInfo.environment.merging(environment) { _, new in new },
                                                       mergingStandardError: false)
        return Result(status: status, output: output, error: error)
    }

    /// Runs a process to its exit with its standard output and error going to temporary files, read
    /// afterwards. Not pipes: a child that starts a daemon (`db start`, a PostgreSQL of another test
    /// started at the same moment) can hand the daemon a pipe's write end, and a read to end-of-file then
    /// waits as long as the daemon lives — which hung whole test runs.
    static func runCapturing(_ executable: String, _ arguments: [String], environment: [String: String],
                             mergingStandardError: Bool) throws -> (status: Int32, output: String, error: String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tenantscope-child-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outputURL = directory.appendingPathComponent("stdout")
        let errorURL = directory.appendingPathComponent("stderr")
        FileManager.default.createFile(atPath: outputURL.path, contents: nil)
        FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        let output = try FileHandle(forWritingTo: outputURL)
        let error = try FileHandle(forWritingTo: errorURL)
        defer {
            try? output.close()
            try? error.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.standardOutput = output
        process.standardError = mergingStandardError ? output : error
        try process.run()
        process.waitUntilExit()
        let text = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        return (process.terminationStatus, text(outputURL), text(errorURL))
    }
}
