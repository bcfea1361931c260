import Foundation
import Logging
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer

/// Fixed test secrets and the verifier/issuers built from them.
enum TestTokens {
    static let tenantSecret = Array("tenant-secret-for-tests-0123456789abcdef".utf8)
    static let platformSecret = Array("platform-secret-for-tests-0123456789abcdef".utf8)

    /// A verifier whose credential checks read `database`'s credential state, as the server's do.
    static func verifier(for database: Database) async throws -> TokenVerifier {
        try await verifier(status: CredentialCache(store: database.credentialState, horizon: .seconds(3600), logger: TestDatabase.logger))
    }

    static func verifier(status: any CredentialStatus) async throws -> TokenVerifier {
        TokenVerifier(
            configuration: .init(issuer: "tenantscope", maximumLifetime: .seconds(3600)),
            tenantKeys: try await TokenKeySet().adding(hs256Secret: tenantSecret, kid: "tenant-1"),
            platformKeys: try await TokenKeySet().adding(hs256Secret: platformSecret, kid: "platform-1"),
            status: status
        )
    }

    static func tenant(_ tenant: TenantID, role: TenantUser.Role = .viewer, attributes: [String: String] = [:],
                       subject: String = "user-1", jti: String = UUID().uuidString.lowercased()) async throws -> String {
        try await TokenIssuer(hs256Secret: tenantSecret, kid: "tenant-1", issuer: "tenantscope")
            .tenantToken(subject: subject, tenant: tenant, role: role, audience: "tenantscope", lifetime: .seconds(600), attributes: attributes, jti: jti)
    }

    static func platform(_ name: String = "operator-1") async throws -> String {
        try await TokenIssuer(hs256Secret: platformSecret, kid: "platform-1", issuer: "tenantscope")
            .platformToken(operator: name, audience: "tenantscope-platform", lifetime: .seconds(600))
    }
}
