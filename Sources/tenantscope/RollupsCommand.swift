import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct RollupsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rollups", abstract: "Maintain the per-tenant daily roll-ups.",
        subcommands: [Rebuild.self]
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

        func run(on db: AdminDatabase, logger: Logger) async throws -> [Int] {
            var tenants = try await db.runtime.tenants.list(logger: logger)
            if let slug = try tenant.map(parseSlug) {
                tenants = tenants.filter { $0.slug == slug }
                guard !tenants.isEmpty else { throw TenantScopeError.notFound("no tenant with the slug '\(slug)'") }
            }
            progress("Rebuilding roll-ups of \(tenants.count) tenant(s)")
            let results = try await RollupService(database: db.runtime, logger: logger).catchUpAll(tenants: tenants, fullRebuild: true, progress: progress)
            try await db.runtime.audit.append(.operatorAction("rollups_rebuilt", tenant: tenants.count == 1 ? tenants[0].id : nil,
                                                      parameters: ["tenants": "\(tenants.count)"]), logger: logger)
            return results.map(\.days)
        }

        func report(_ days: [Int]) {
            print("Rebuilt roll-ups of \(days.count) tenant(s), \(days.map { max($0, 0) }.reduce(0, +)) tenant-days.")
        }
    }
}
