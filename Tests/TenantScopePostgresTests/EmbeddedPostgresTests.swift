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
