import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct TierCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tier", abstract: "Manage tenant tiers and their limits (free, standard, enterprise, or your own).",
        discussion: """
            A tier limits each of its tenants' request rates on the API and the LRS and concurrent report work, and the \
            report work of all its tenants together (its connection budget). Limits are per server process; running \
            servers apply a change within their --tenant-limits-refresh (5 s). Override one tenant with `tenantscope tenant limits`.
            """,
        subcommands: [List.self, Set.self, Remove.self]
    )

    struct List: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "List the tiers, their limits and how many tenants each holds.")

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> [TierRegistry.Tier] {
            try await db.tiers.list(logger: logger)
        }

        func report(_ tiers: [TierRegistry.Tier]) {
            printTable([["TIER", "CONCURRENCY", "CONNECTION BUDGET", "API RATE", "INGEST RATE", "TENANTS"]] + tiers.map {
                [$0.name, describe($0.concurrency), describe($0.connectionBudget), describe($0.api), describe($0.ingest), String($0.tenants)]
            })
        }
    }

    struct Set: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a tier or change its limits.",
            discussion: "A new tier starts from the standard tier's limits; options not given keep the current value, and 0 removes a limit.")

        @Argument(help: "The tier's name: lower-case letters, digits and '-', starting with a letter.")
        var name: String

        @Option(help: ArgumentHelp("Report work all tenants of the tier run at once per server process (0: no budget).", valueName: "count"))
        var connectionBudget: Int?

        @OptionGroup var limits: LimitOptions

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            do { try TierRegistry.validate(name: name) } catch { throw ValidationError("\(error)") }
            if let connectionBudget, !(0...10_000).contains(connectionBudget) {
                throw ValidationError("--connection-budget takes 0 to 10000, got \(connectionBudget)")
            }
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> TierRegistry.Tier {
            let tiers = try await db.tiers.list(logger: logger)
            var tier = tiers.first { $0.name == name } ?? tiers.first { $0.name == "standard" }.map {
                TierRegistry.Tier(name: name, concurrency: $0.concurrency, connectionBudget: $0.connectionBudget, api: $0.api, ingest: $0.ingest)
            } ?? TierRegistry.Tier(name: name)
            try limits.checkBursts(api: tier.api, ingest: tier.ingest)
            tier.concurrency = limits.applied(concurrency: tier.concurrency)
            if let connectionBudget { tier.connectionBudget = connectionBudget == 0 ? nil : connectionBudget }
            tier.api = limits.applied(api: tier.api)
            tier.ingest = limits.applied(ingest: tier.ingest)
            try await db.tiers.set(tier, logger: logger)
            try await db.runtime.audit.append(.operatorAction("tier_set", tenant: nil, parameters: [
                "tier": name, "concurrency": describe(tier.concurrency), "connection_budget": describe(tier.connectionBudget),
                "api": describe(tier.api), "ingest": describe(tier.ingest),
            ]), logger: logger)
            return try await db.tiers.list(logger: logger).first { $0.name == name } ?? tier
        }

        func report(_ tier: TierRegistry.Tier) {
            print("Tier \(tier.name): concurrency \(describe(tier.concurrency)), connection budget \(describe(tier.connectionBudget)), "
                  + "API \(describe(tier.api)), ingest \(describe(tier.ingest)); \(tier.tenants) tenant(s).")
        }
    }

    struct Remove: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a tier that no tenant is in.")

        @Argument(help: "The tier's name.")
        var name: String

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> String {
            try await db.tiers.remove(name: name, logger: logger)
            try await db.runtime.audit.append(.operatorAction("tier_removed", tenant: nil, parameters: ["tier": name]), logger: logger)
            return name
        }

        func report(_ name: String) {
            print("Removed tier \(name).")
        }
    }
}
