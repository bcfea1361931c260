import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct LRSKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lrs-key", abstract: "Manage per-tenant LRS credentials (HTTP Basic key and secret for /xAPI).",
        subcommands: [Create.self, List.self, Revoke.self]
    )

    struct Create: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and secret for a tenant. The secret is shown once; only its hash is stored.")

        @Option(help: "The tenant's slug.")
        var tenant: String

        @Option(help: "A note saying who uses the key, e.g. 'moodle-prod'.")
        var label: String?

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseSlug(tenant)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> LRSCredentialSecret {
            let slug = try parseSlug(tenant)
            guard let tenant = try await db.runtime.tenants.find(slug: slug, logger: logger) else {
                throw TenantScopeError.notFound("no tenant with the slug '\(slug)'; see `tenantscope tenant list`")
            }
            let credential = try await db.lrsKeys.create(tenant: tenant.id, label: label, logger: logger)
            try await db.runtime.audit.append(.operatorAction("lrs_key_created", tenant: tenant.id, parameters: ["key": credential.key]), logger: logger)
            return credential
        }

        func report(_ credential: LRSCredentialSecret) {
            print("key:    \(credential.key)")
            print("secret: \(credential.secret)")
            progress("Store the secret now: it cannot be shown again. Clients send it as HTTP Basic auth (key:secret).")
        }
    }

    struct List: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "List LRS keys (never their secrets).")

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> [LRSKeyRegistry.Listing] {
            try await db.lrsKeys.list(logger: logger)
        }

        func report(_ keys: [LRSKeyRegistry.Listing]) {
            guard !keys.isEmpty else {
                print("No LRS keys yet. Create one with: tenantscope lrs-key create --tenant SLUG")
                return
            }
            printTable([["KEY", "TENANT", "LABEL", "CREATED", "STATUS"]] + keys.map {
                [$0.key, $0.tenantSlug, $0.label ?? "", String(ISO8601Timestamp.format($0.createdAt).prefix(10)),
                 $0.revokedAt.map { "revoked " + String(ISO8601Timestamp.format($0).prefix(10)) } ?? "active"]
            })
        }
    }

    struct Revoke: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: requests with it get 401 from then on.")

        @Argument(help: "The key (lrs_...).")
        var key: String

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> String {
            guard let tenant = try await db.lrsKeys.revoke(key: key, logger: logger) else {
                throw TenantScopeError.notFound("no active LRS key '\(key)'")
            }
            try await db.runtime.audit.append(.operatorAction("lrs_key_revoked", tenant: tenant, parameters: ["key": key]), logger: logger)
            return key
        }

        func report(_ key: String) {
            print("Revoked \(key).")
        }
    }
}
