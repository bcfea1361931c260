import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

@Suite(.database) struct EmbeddedPostgresTests {
    @Test func startsSurvivesARestartWithItsDataAndStops() async throws {
        let root = try TestPostgres.makeTemporaryDirectory("tenantscope-embedded")
        let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: root, relaxedDurability: true), logger: TestDatabase.logger)
        Watchdog.stopWhenThisProcessExits(dataDirectory: root + "/postgres/data")
        let slug = try TenantSlug(TwoTenants.uniqueSlug("persist"))

        let endpoint = try await embedded.start()
        #expect(try await embedded.isRunning())
        let created = try await AdminDatabase.prepare(ownerEndpoint: endpoint, logger: TestDatabase.logger)
            .withRunningClientsUsing { try await $0.tenants.create(slug: slug, name: "Survives restarts", logger: TestDatabase.logger) }
        try await embedded.stop()
        #expect(try await !embedded.isRunning())
        #expect(!FreePort.isInUse(endpoint.port), "nothing listens after stop")

        let again = try await embedded.start()
        #expect(again.port == endpoint.port, "the port is kept across restarts")
        let found = try await AdminDatabase.prepare(ownerEndpoint: again, logger: TestDatabase.logger)
            .withRunningClientsUsing { try await $0.runtime.tenants.find(slug: slug, logger: TestDatabase.logger) }
        #expect(found?.id == created.id)
        try await embedded.stop()
        #expect(try await !embedded.isRunning())
    }

    /// Commands started together on one stopped cluster (cron jobs) each started it: their `pg_ctl start`s and
    /// bootstraps failed one another (probe 38). Starts of one state directory now take turns across processes: three
    /// `db start`s at once all succeed, one of them starting the cluster, and the port saved is the one it runs on.
    @Test func commandsStartingOneClusterTogetherTakeTurns() async throws {
        let root = try TestPostgres.makeTemporaryDirectory("tenantscope-embedded-together")
        Watchdog.stopWhenThisProcessExits(dataDirectory: root + "/postgres/data")
        let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: root, relaxedDurability: true), logger: TestDatabase.logger)
        _ = try await embedded.start()  // created once; the race is about starting, not initdb
        try await embedded.stop()
        let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
            for _ in 0..<3 {
                group.addTask { try await TenantScopeBinary.run(["db", "start", "--state-dir", root]) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.allSatisfy { $0.0 == 0 }, "\(results.map(\.1))")
        let endpoint = try await embedded.start()
        #expect(try await embedded.isRunning() && FreePort.isInUse(endpoint.port), "it runs on the port its state file names")
        try await embedded.stop()
    }

    /// Another process may bind the cluster's port after the start found it free and before PostgreSQL binds it (a
    /// socket bound but not listening looks free to that check): the start moves to another port instead of failing.
    @Test func aPortTakenDuringTheStartMovesTheClusterToAnother() async throws {
        let root = try TestPostgres.makeTemporaryDirectory("tenantscope-port-race")
        let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: root, relaxedDurability: true), logger: TestDatabase.logger)
        Watchdog.stopWhenThisProcessExits(dataDirectory: root + "/postgres/data")
        let first = try await embedded.start()
        try await embedded.stop()

        let squatter = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(squatter >= 0)
        defer { close(squatter) }
        #expect(FreePort.bindLoopback(squatter, port: first.port) == first.port)
        #expect(!FreePort.isInUse(first.port), "bound without listening: the start's own check sees it free")

        let moved = try await embedded.start()
        #expect(moved.port != first.port)
        #expect(try await embedded.isRunning())
        try await embedded.stop()
    }

    @Test func aMissingBinaryDirectoryNamesTheDebianPackage() {
        #expect {
            try PostgresBinaries.locate(environment: ["TENANTSCOPE_PG_BIN": "/nonexistent/bin"])
        } throws: { ($0 as? TenantScopeError)?.kind == .environment }
        #expect(PostgresBinaries.installHint.contains("apt-get install -y postgresql"))
    }

    @Test func theStateFileKeepsItsSecretsPrivate() async throws {
        let handle = try TestDatabase.current
        let attributes = try FileManager.default.attributesOfItem(atPath: handle.root + "/embedded.json")
        #expect((attributes[.posixPermissions] as? Int).map { $0 & 0o077 } == 0)
    }
}

extension AdminDatabase {
    /// Runs the pools for one closure that receives the database.
    func withRunningClientsUsing<Result: Sendable>(_ body: @Sendable (AdminDatabase) async throws -> Result) async throws -> Result {
        try await withRunningClients { try await body(self) }
    }
}
