import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (organizations).",
        subcommands: [Create.self, List.self, Delete.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant.")

        @Argument(help: "Short name: lower-case letters, digits and '-', starting with a letter.")
        var slug: String

        @Option(help: "Display name.")
        var name: String

        @Option(help: "Commercial tier, e.g. starter, growth, enterprise.")
        var tier = "standard"

        @Option(help: "Hosting or data region label.")
        var region = "default"

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let slug: TenantSlug
            do { slug = try TenantSlug(self.slug) } catch { throw ValidationError(error.description) }
            let (name, tier, region) = (self.name, self.tier, self.region)
            let tenant = try await database.withDatabase(logger: Logger(label: "tenantscope")) { db in
                let tenant = try await db.tenants.create(slug: slug, name: name, tier: tier, region: region)
                try await db.audit.append(.init(actor: operatorName(), actorKind: "operator", scopeTenant: tenant.id,
                                                action: "tenant_created", parameters: ["slug": slug.rawValue], outcome: "ok"))
                return tenant
            }
            print("Created tenant \(tenant.slug) (\(tenant.id)).")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let tenants = try await database.withDatabase(logger: Logger(label: "tenantscope")) { db in
                try await db.tenants.list()
            }
            guard !tenants.isEmpty else {
                print("No tenants yet. Create one with: tenantscope tenant create SLUG --name NAME")
                return
            }
            let rows = [["SLUG", "NAME", "TIER", "REGION", "ID", "CREATED"]] + tenants.map {
                [$0.slug.rawValue, $0.name, $0.tier, $0.region, $0.id.description, String(ISO8601Timestamp.format($0.createdAt).prefix(10))]
            }
            let widths = (0..<rows[0].count).map { column in rows.map { $0[column].count }.max() ?? 0 }
            for row in rows {
                print(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  "))
            }
        }
    }
}

extension TenantCommand {
    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant and everything it owns: statements, derived facts, roll-ups, product events, LRS keys.",
            discussion: "The audit log keeps its rows about the tenant. This cannot be undone."
        )

        @Argument(help: "The tenant's slug.")
        var slug: String

        @Flag(help: "Required: confirms that the tenant's data is to be removed for good.")
        var confirm = false

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            guard confirm else { throw ValidationError("deleting a tenant removes all its data for good; add --confirm") }
            let slug: TenantSlug
            do { slug = try TenantSlug(self.slug) } catch { throw ValidationError(error.description) }
            let deleted = try await database.withDatabase(logger: Logger(label: "tenantscope")) { db in
                progress("Deleting tenant \(slug) and all its data")
                guard let tenant = try await db.tenants.delete(slug: slug) else {
                    throw TenantScopeError.notFound("no tenant with the slug '\(slug)'; see `tenantscope tenant list`")
                }
                try await db.audit.append(.init(actor: operatorName(), actorKind: "operator", scopeTenant: tenant.id,
                                                action: "tenant_deleted", parameters: ["slug": slug.rawValue], outcome: "ok"))
                return tenant
            }
            print("Deleted tenant \(deleted.slug) (\(deleted.id)).")
        }
    }
}

/// Who runs an administrative CLI command, for the audit log.
func operatorName() -> String {
    let environment = ProcessInfo.processInfo.environment
    return "cli:" + (environment["SUDO_USER"] ?? environment["USER"] ?? environment["LOGNAME"] ?? "unknown")
}
