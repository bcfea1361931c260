import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing
@testable import TenantScopePostgres

/// The real `tenantscope` binary: serve on a fresh state directory, answer /readyz, stop with SIGTERM.
@Suite struct ServerProcessTests {
    /// The built executable: `$TENANTSCOPE_BIN`, else beside the test bundle in the build directory.
    static var binary: String {
        if let path = ProcessInfo.processInfo.environment["TENANTSCOPE_BIN"], !path.isEmpty { return path }
        return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("tenantscope").path
    }

    @Test func serveStartsTheEmbeddedClusterAndStopsItOnSIGTERM() async throws {
        let root = try TestCluster.makeTemporaryDirectory("tenantscope-serve")
        StopAtExit.register(dataDirectory: root + "/state/postgres/data")
        let output = root + "/serve.log"
        FileManager.default.createFile(atPath: output, contents: nil)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.binary)
        process.arguments = ["serve", "--state-dir", root + "/state", "--port", "0"]
        var environment = ProcessInfo.processInfo.environment
        environment["DATABASE_URL"] = nil
        process.environment = environment
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: output))
        process.standardOutput = log
        process.standardError = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Wait (bounded) for the line that names the URL.
        var url: String?
        for _ in 0..<600 where url == nil {
            try await Task.sleep(for: .milliseconds(100))
            let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
            url = text.split(separator: "\n").first { $0.hasPrefix("TenantScope is running at ") }
                .flatMap { $0.split(separator: " ").dropFirst(4).first.map(String.init) }
            #expect(process.isRunning || url != nil, "serve exited early: \(text)")
            if !process.isRunning { break }
        }
        let base = try #require(url)
        let (body, response) = try await URLSession.shared.data(from: URL(string: base + "/readyz")!)
        #expect((response as? HTTPURLResponse)?.statusCode == 200)
        #expect(String(decoding: body, as: UTF8.self).contains("\"ready\""))

        let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: root + "/state"), logger: TestCluster.logger)
        #expect(try await embedded.isRunning())
        process.terminate()  // SIGTERM, as a service manager sends; Ctrl-C's SIGINT takes the same path
        for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(100)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        #expect(try await !embedded.isRunning(), "the cluster stops with the server")
    }
}

/// The administrative commands, run as a person would.
@Suite struct CommandLineTests {
    static func tenantscope(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: ServerProcessTests.binary)
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

    @Test func tenantsTokensAndTheAuditChainFromTheCommandLine() async throws {
        let handle = try await TestCluster.shared.start()
        let url = handle.ownerEndpoint.url
        let slug = TwoTenants.uniqueSlug("cli")
        let created = try Self.tenantscope(["tenant", "create", slug, "--name", "CLI tenant", "--database-url", url])
        #expect(created.status == 0, "\(created.output)")
        let listed = try Self.tenantscope(["tenant", "list", "--database-url", url])
        #expect(listed.output.contains(slug) && listed.output.contains("CLI tenant"))
        let duplicate = try Self.tenantscope(["tenant", "create", slug, "--name", "Again", "--database-url", url])
        #expect(duplicate.status != 0 && duplicate.output.contains("already exists"))
        let invalid = try Self.tenantscope(["tenant", "create", "Not A Slug", "--name", "x", "--database-url", url])
        #expect(invalid.status != 0)

        #expect(try Self.tenantscope(["audit", "verify", "--database-url", url]).status == 0)
        let tail = try Self.tenantscope(["audit", "tail", "--limit", "200", "--database-url", url])
        #expect(tail.output.contains("tenant_created") && tail.output.contains(slug))

        #expect(try Self.tenantscope(["db", "url", "--database-url", url]).output.hasPrefix("postgresql://"))
    }
}
