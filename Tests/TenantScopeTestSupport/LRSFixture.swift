import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer

/// Two fresh tenants, each with an LRS credential, and an application wired to the test cluster.
struct LRSFixture: Sendable {
    struct Member: Sendable {
        let tenant: Tenant
        let credential: LRSCredentialSecret

        /// Basic credentials plus the xAPI version header: what every LRS client sends.
        var headers: HTTPFields {
            var headers = HTTPFields()
            headers[.authorization] = "Basic " + Data("\(credential.key):\(credential.secret)".utf8).base64EncodedString()
            headers[XAPIRoutes.versionHeader] = "1.0.3"
            headers[.contentType] = "application/json"
            return headers
        }
    }

    let a: Member
    let b: Member
    let handle: TestDatabase

    static func with(
        maximumBodyBytes: Int = ServerConfiguration.defaultMaximumBodyBytes, exports: ExportConfiguration? = nil,
        testing: TestingSetup = .router, idleTimeout: Duration = .seconds(30), prepare: @Sendable (LRSFixture) async throws -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol, LRSFixture) async throws -> Void
    ) async throws {
        let handle = try TestDatabase.current
        let fixture = LRSFixture(a: try await member(handle), b: try await member(handle), handle: handle)
        // Before the server starts, so what `prepare` writes (limits, say) is in the server's first load.
        try await prepare(fixture)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        var configuration = ServerConfiguration(port: 0, maximumBodyBytes: maximumBodyBytes, rollupInterval: nil, exports: exports)
        configuration.idleTimeout = idleTimeout
        let app = buildApplication(
            database: database, configuration: configuration,
            tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(), logger: TestDatabase.logger
        )
        try await app.test(testing) { client in try await body(client, fixture) }
    }

    private static func member(_ handle: TestDatabase) async throws -> Member {
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("lrs")), name: "LRS tenant", logger: TestDatabase.logger)
        let credential = try await handle.admin.lrsKeys.create(tenant: tenant.id, label: "tests", logger: TestDatabase.logger)
        return Member(tenant: tenant, credential: credential)
    }

    /// Runs `sql` as `member`'s tenant and returns the first column of every row as text.
    func rows(_ member: Member, _ sql: String) async throws -> [String] {
        try await handle.database.sessions.run(member.tenant.id.testScope, logger: TestDatabase.logger) { connection in
            var values: [String] = []
            for try await value in try await connection.query(PostgresQuery(unsafeSQL: sql)).decode(String?.self) {
                values.append(value ?? "NULL")
            }
            return values
        }
    }
}

/// Small builders for statements in tests.
enum XAPIJSON {
    static func statement(
        id: UUID? = nil, actor: String = "mailto:ann@example.com", verb: String = "http://adlnet.gov/expapi/verbs/experienced",
        object: String = "https://example.com/activity/1", extra: String = ""
    ) -> String {
        let idPart = id.map { "\"id\":\"\($0.uuidString.lowercased())\"," } ?? ""
        return #"{\#(idPart)"actor":{"mbox":"\#(actor)","name":"Ann"},"verb":{"id":"\#(verb)","display":{"en-US":"did"}},"object":{"id":"\#(object)","definition":{"name":{"en-US":"Activity","de":"Aktivität"}}}\#(extra)}"#
    }

    static func voiding(_ target: UUID, id: UUID? = nil, actor: String = "mailto:admin@example.com") -> String {
        let idPart = id.map { "\"id\":\"\($0.uuidString.lowercased())\"," } ?? ""
        return #"{\#(idPart)"actor":{"mbox":"\#(actor)"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"\#(target.uuidString.lowercased())"}}"#
    }

    static func array(_ statements: [String]) -> String {
        "[" + statements.joined(separator: ",") + "]"
    }

    /// The members of a JSON object body; empty when the body is not one.
    static func object(_ body: String) -> JSONObject {
        (try? JSONParser.parse(body.utf8))?.objectValue ?? [:]
    }
}
