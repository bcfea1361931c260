import Foundation

/// The built `tenantscope` executable, run as a person or a service manager would.
enum TenantScopeBinary {
    /// `$TENANTSCOPE_BIN`, else beside the test bundle in the build directory.
    static var path: String {
        if let path = ProcessInfo.processInfo.environment["TENANTSCOPE_BIN"], !path.isEmpty { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tenantscope").path
    }

    /// The state directory commands of this test process use unless they are given one.
    static let stateDirectory: String = (try? TestPostgres.makeTemporaryDirectory("tenantscope-cli-state")) ?? FileManager.default.temporaryDirectory.path

    /// Runs it with `arguments` (no `DATABASE_URL` from the environment, `environment` added) and returns its exit
    /// status and output (standard error merged in).
    static func run(_ arguments: [String], environment extra: [String: String] = [:]) async throws -> (status: Int32, output: String) {
        // Keys and audit checkpoints of commands given only --database-url go to a state directory of
        // the test run, never to the machine's default one.
        // One state directory per database, as a deployment has: audit checkpoints of one database must
        // not be compared with another's.
        let database = arguments.firstIndex(of: "--database-url").flatMap { arguments.indices.contains($0 + 1) ? arguments[$0 + 1] : nil }
            .flatMap { URL(string: $0)?.path.split(separator: "/").last.map(String.init) } ?? "default"
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        environment["TENANTSCOPE_STATE_DIR"] = stateDirectory + "/" + database
        environment.merge(extra) { $1 }
        let result = try await Shell.run(path, arguments, environment: environment, mergingStandardError: true)
        return (result.status, result.output)
    }
}
