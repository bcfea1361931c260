import Foundation

/// The built `tenantscope` executable, run as a person or a service manager would.
enum TenantScopeBinary {
    /// `$TENANTSCOPE_BIN`, else beside the test bundle in the build directory.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["TENANTSCOPE_BIN"], !path.isEmpty { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tenantscope").path
    }

    /// Runs it with `arguments` (no `DATABASE_URL` from the environment) and returns its exit status and output.
    ///
    /// The wait happens on a thread of its own: blocking a cooperative-pool thread while the command
    /// waits for a lock that another test's task holds would stall both.
    static func run(_ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try runBlocking(arguments) })
            }
        }
    }

    private static func runBlocking(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}
