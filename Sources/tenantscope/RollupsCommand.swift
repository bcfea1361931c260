import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct RollupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollups", abstract: "Maintain the per-tenant daily roll-ups.",
        subcommands: [Rebuild.self, CatchUp.self]
    )

    struct Rebuild: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute learners, courses, enrollments and roll-ups from the raw statements, for every tenant or one.",
            discussion: "The server keeps roll-ups current on its own; rebuild after restoring data or to check them."
        )

        @Option(help: "Only this tenant (its slug).")
        var tenant: String?

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try tenant.map(parseSlug)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> (days: [Int], seconds: Double) {
            var tenants = try await db.runtime.tenants.list(logger: logger)
            if let slug = try tenant.map(parseSlug) {
                tenants = tenants.filter { $0.slug == slug }
                guard !tenants.isEmpty else { throw TenantScopeError.notFound("no tenant with the slug '\(slug)'") }
            }
            progress("Rebuilding roll-ups of \(tenants.count) tenant(s)")
            let clock = ContinuousClock()
            let started = clock.now
            let results = try await RollupService(database: db.runtime, logger: logger).catchUpAll(tenants: tenants, fullRebuild: true, progress: progress)
            let elapsed = started.duration(to: clock.now)
            try await db.runtime.audit.append(.operatorAction("rollups_rebuilt", tenant: tenants.count == 1 ? tenants[0].id : nil,
                                                      parameters: ["tenants": "\(tenants.count)"]), logger: logger)
            return (results.map(\.days), elapsed.inSeconds)
        }

        func report(_ output: (days: [Int], seconds: Double)) {
            let days = output.days
            print("Rebuilt roll-ups of \(days.count) tenant(s), \(days.map { max($0, 0) }.reduce(0, +)) tenant-days, in \(String(format: "%.3f", output.seconds)) s.")
        }
    }

    struct CatchUp: DatabaseCommand {
        static let configuration = CommandConfiguration(
            commandName: "catch-up",
            abstract: "Run one pass of the roll-up service now: catch up the tenants with queued work, and only those.",
            discussion: "What `serve` does every --rollup-interval; useful without a server, or to time a pass."
        )

        @OptionGroup var database: DatabaseOptions

        @Option(help: ArgumentHelp("How many tenants to catch up at once (1 to \(RollupService.maximumConcurrency)), as `serve --rollup-concurrency`.",
                                   valueName: "tenants"))
        var concurrency = RollupService.defaultConcurrency

        func validate() throws {
            try RollupConcurrency.validate(concurrency, option: "--concurrency")
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> (tenants: Int, seconds: Double) {
            let clock = ContinuousClock()
            let started = clock.now
            let tenants = try await RollupService(database: db.runtime, concurrency: concurrency, logger: logger).pass()
            return (tenants, started.duration(to: clock.now).inSeconds)
        }

        func report(_ output: (tenants: Int, seconds: Double)) {
            print("Caught up \(output.tenants) tenant(s) with queued work in \(String(format: "%.3f", output.seconds)) s.")
        }
    }
}
