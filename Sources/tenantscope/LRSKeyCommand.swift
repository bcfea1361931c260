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

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a key and secret for a tenant. The secret is shown once; only its hash is stored.")

        @Option(help: "The tenant's slug.")
        var tenant: String

        @Option(help: "A note saying who uses the key, e.g. 'moodle-prod'.")
        var label: String?

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let slug: TenantSlug
            do { slug = try TenantSlug(tenant) } catch { throw ValidationError(error.description) }
            let label = self.label
            let credential = try await database.withDatabase(logger: Logger(label: "tenantscope")) { db in
                guard let tenant = try await db.tenants.find(slug: slug) else {
                    throw TenantScopeError.notFound("no tenant with the slug '\(slug)'; see `tenantscope tenant list`")
                }
                let credential = try await db.lrsCredentials.create(tenant: tenant.id, label: label)
                try await db.audit.append(.init(actor: operatorName(), actorKind: "operator", scopeTenant: tenant.id,
                                                action: "lrs_key_created", parameters: ["key": credential.key], outcome: "ok"))
                return credential
            }
            print("key:    \(credential.key)")
            print("secret: \(credential.secret)")
            progress("Store the secret now: it cannot be shown again. Clients send it as HTTP Basic auth (key:secret).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List LRS keys (never their secrets).")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let keys = try await database.withDatabase(logger: Logger(label: "tenantscope")) { db in
                try await db.lrsCredentials.list()
            }
            guard !keys.isEmpty else {
                print("No LRS keys yet. Create one with: tenantscope lrs-key create --tenant SLUG")
                return
            }
            let rows = [["KEY", "TENANT", "LABEL", "CREATED", "STATUS"]] + keys.map {
                [$0.key, $0.tenantSlug, $0.label ?? "", String(ISO8601Timestamp.format($0.createdAt).prefix(10)),
                 $0.revokedAt.map { "revoked " + String(ISO8601Timestamp.format($0).prefix(10)) } ?? "active"]
            }
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a key: requests with it get 401 from then on.")

        @Argument(help: "The key (lrs_...).")
        var key: String

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let key = self.key
            try await database.withDatabase(logger: Logger(label: "tenantscope")) { db in
                guard let tenant = try await db.lrsCredentials.revoke(key: key) else {
                    throw TenantScopeError.notFound("no active LRS key '\(key)'")
                }
                try await db.audit.append(.init(actor: operatorName(), actorKind: "operator", scopeTenant: tenant,
                                                action: "lrs_key_revoked", parameters: ["key": key], outcome: "ok"))
            }
            print("Revoked \(key).")
        }
    }
}
