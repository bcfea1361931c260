import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres
import TenantScopeServer

struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant", abstract: "Manage tenants (organizations).",
        subcommands: [Create.self, List.self, Move.self, Limits.self, Delete.self]
    )

    struct Create: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Create a tenant.")

        @Argument(help: "Short name: lower-case letters, digits and '-', starting with a letter.")
        var slug: String

        @Option(help: "Display name.")
        var name: String

        @Option(help: "Tier, which sets the tenant's limits: free, standard, enterprise, or one from `tenantscope tier list`.")
        var tier = "standard"

        @Option(help: "Hosting or data region label. A cluster with a region only takes tenants of that region.")
        var region = "default"

        @Option(help: "The cluster that holds the tenant's data: `pool` (shared) or a dedicated one from `tenantscope cluster list`.")
        var cluster = "pool"

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseSlug(slug)
            _ = try parseClusterName(cluster)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> Tenant {
            let slug = try parseSlug(self.slug)
            let tenant = try await db.tenants.create(slug: slug, name: name, tier: tier, region: region, cluster: try parseClusterName(cluster),
                                                     logger: logger)
            db.runtime.placement.record(tenant.id, on: tenant.cluster)
            try await db.runtime.audit.append(.operatorAction("tenant_created", tenant: tenant.id, parameters: [
                "slug": slug.rawValue, "cluster": tenant.cluster.rawValue,
            ]), logger: logger)
            return tenant
        }

        func report(_ tenant: Tenant) {
            print("Created tenant \(tenant.slug) (\(tenant.id))\(tenant.cluster.isPool ? "" : " on the cluster \(tenant.cluster)").")
        }
    }

    struct List: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "List tenants.")

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> [Tenant] {
            try await db.runtime.tenants.list(logger: logger)
        }

        func report(_ tenants: [Tenant]) {
            guard !tenants.isEmpty else {
                print("No tenants yet. Create one with: tenantscope tenant create SLUG --name NAME")
                return
            }
            printTable([["SLUG", "NAME", "TIER", "REGION", "CLUSTER", "ID", "CREATED"]] + tenants.map {
                [$0.slug.rawValue, $0.name, $0.tier, $0.region, $0.cluster.rawValue, $0.id.description,
                 String(ISO8601Timestamp.format($0.createdAt).prefix(10))]
            })
        }
    }

    struct Move: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Move a tenant's data to another cluster: copy, verify, switch, then remove the source rows.",
            discussion: """
                Every table's rows are copied in one transaction and checked (row counts and checksums) before it commits; \
                a difference leaves the tenant where it was. Meanwhile the tenant's writes are answered with 503 and \
                Retry-After (none is lost), its reads go on, and no other tenant pauses. A cluster with a region takes only \
                tenants of that region. Audited.
                """)

        @Argument(help: "The tenant's slug.")
        var slug: String

        @Option(help: ArgumentHelp("The cluster to move it to: `pool` or a dedicated one from `tenantscope cluster list`.", valueName: "cluster"))
        var to: String

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseSlug(slug)
            _ = try parseClusterName(to)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> TenantMover.Report {
            try await db.mover.move(slug: try parseSlug(slug), to: try parseClusterName(to), operatorName: operatorName()) {
                FileHandle.standardError.write(Data(($0 + "\n").utf8))
            }
        }

        func report(_ report: TenantMover.Report) {
            let rows = report.tables.reduce(0) { $0 + $1.rows }
            let held = report.writesHeld.inSeconds
            print("Moved \(report.tenant.slug) from \(report.from) to \(report.to): \(rows) rows in \(report.tables.count) tables, "
                + "writes held for \(String(format: "%.1f", held)) s.")
        }
    }

    struct Delete: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a tenant and everything it owns: statements, derived facts, roll-ups, product events, LRS keys, exports and their files.",
            discussion: "The audit log keeps its rows about the tenant. This cannot be undone."
        )

        @Argument(help: "The tenant's slug.")
        var slug: String

        @Flag(help: "Required: confirms that the tenant's data is to be removed for good.")
        var confirm = false

        @OptionGroup var exports: ExportOptions

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard confirm else { throw ValidationError("deleting a tenant removes all its data for good; add --confirm") }
            _ = try parseSlug(slug)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> Tenant {
            let slug = try parseSlug(self.slug)
            progress("Deleting tenant \(slug) and all its data")
            guard let found = try await db.runtime.tenants.find(slug: slug, logger: logger) else {
                throw TenantScopeError.notFound("no tenant with the slug '\(slug)'; see `tenantscope tenant list`")
            }
            // Export files first, so a store that is unavailable leaves the tenant in place to try again.
            try await exports.withStore(stateDirectory: database.resolvedStateDirectory, logger: logger) { try await $0.removeAll(of: found.id, logger: logger) }
            guard let tenant = try await db.runtime.tenants.delete(slug: slug, logger: logger) else {
                throw TenantScopeError.notFound("no tenant with the slug '\(slug)'; see `tenantscope tenant list`")
            }
            try await db.runtime.audit.append(.operatorAction("tenant_deleted", tenant: tenant.id, parameters: ["slug": slug.rawValue]), logger: logger)
            // And again once its rows are gone: an export a running server finished meanwhile was uploaded after them.
            // The tenant is deleted whatever this does; a failure is a warning with what to do.
            do {
                try await exports.withStore(stateDirectory: database.resolvedStateDirectory, logger: logger) { try await $0.removeAll(of: tenant.id, logger: logger) }
            } catch {
                progress("warning: the tenant is deleted, but removing its export files again failed (\(error)); remove the prefix \(tenant.id)/ from the export store")
            }
            return tenant
        }

        func report(_ deleted: Tenant) {
            print("Deleted tenant \(deleted.slug) (\(deleted.id)).")
        }
    }

    struct Limits: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show a tenant's limits, move it to another tier, or override its tier's limits.",
            discussion: """
                Without options, prints the limits that apply. Options not given keep the tenant's current override; \
                --clear removes every override so the tier's limits apply again. Running servers apply a change within \
                their --tenant-limits-refresh (5 s).
                """)

        @Argument(help: "The tenant's slug.")
        var slug: String

        @Option(help: "Move the tenant to this tier.")
        var tier: String?

        @OptionGroup var limits: LimitOptions

        @Flag(help: "Remove the tenant's overrides (before applying any options given with it).")
        var clear = false

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseSlug(slug)
        }

        struct Output: Sendable {
            var slug: String
            var limits: TenantLimits
            var override: TierRegistry.Override
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> Output {
            let slug = try parseSlug(self.slug)
            guard let tenant = try await db.runtime.tenants.find(slug: slug, logger: logger) else {
                throw TenantScopeError.notFound("no tenant with the slug '\(slug)'; see `tenantscope tenant list`")
            }
            if let tier {
                try await db.tiers.assign(tenant: tenant.id, tier: tier, logger: logger)
            }
            var override = clear ? TierRegistry.Override() : try await db.tiers.override(of: tenant.id, logger: logger)
            if clear || !limits.isEmpty {
                let current = try await db.runtime.tenantLimits.load(logger: logger)[tenant.id]
                try limits.checkBursts(api: override.api ?? current?.api, ingest: override.ingest ?? current?.ingest)
                // An override of 0 means "the tier's value" for concurrency; a rate of 0 removes the tenant's rate override.
                if let concurrency = limits.concurrency { override.concurrency = concurrency == 0 ? nil : concurrency }
                if limits.apiRate != nil || limits.apiBurst != nil { override.api = limits.applied(api: override.api ?? current?.api) }
                if limits.ingestRate != nil || limits.ingestBurst != nil {
                    override.ingest = limits.applied(ingest: override.ingest ?? current?.ingest)
                }
                try await db.tiers.setOverride(override, of: tenant.id, logger: logger)
            }
            if tier != nil || clear || !limits.isEmpty {
                try await db.runtime.audit.append(.operatorAction("tenant_limits_changed", tenant: tenant.id, parameters: [
                    "tier": tier ?? tenant.tier, "concurrency": describe(override.concurrency), "api": describe(override.api),
                    "ingest": describe(override.ingest),
                ]), logger: logger)
            }
            guard let applied = try await db.runtime.tenantLimits.load(logger: logger)[tenant.id] else {
                throw TenantScopeError.notFound("tenant '\(slug)' was deleted meanwhile")
            }
            return Output(slug: slug.rawValue, limits: applied, override: override)
        }

        func report(_ output: Output) {
            let mark: (Bool) -> String = { $0 ? " (override)" : "" }
            print("Tenant \(output.slug), tier \(output.limits.tier):")
            print("  concurrency        \(describe(output.limits.concurrency))\(mark(output.override.concurrency != nil))")
            print("  connection budget  \(describe(output.limits.connectionBudget)) (shared by the tier)")
            print("  API rate           \(describe(output.limits.api))\(mark(output.override.api != nil))")
            print("  ingest rate        \(describe(output.limits.ingest))\(mark(output.override.ingest != nil))")
        }
    }
}
