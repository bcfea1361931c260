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

    struct Rebuild: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Recompute learners, courses, enrollments and roll-ups from the raw statements, for every tenant or one.",
            discussion: "The server keeps roll-ups current on its own; rebuild after restoring data or to check them."
        )

        @Option(help: "Only this tenant (its slug).")
        var tenant: String?

        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let slug: TenantSlug?
            do { slug = try tenant.map(TenantSlug.init) } catch { throw ValidationError(error.description) }
            let logger = Logger(label: "tenantscope")
            let results = try await database.withDatabase(logger: logger) { db in
                var tenants = try await db.tenants.list()
                if let slug {
                    tenants = tenants.filter { $0.slug == slug }
                    guard !tenants.isEmpty else { throw TenantScopeError.notFound("no tenant with the slug '\(slug)'") }
                }
                progress("Rebuilding roll-ups of \(tenants.count) tenant(s)")
                let results = try await RollupService(database: db, logger: logger).catchUpAll(tenants: tenants, fullRebuild: true, progress: progress)
                try await db.audit.append(.init(actor: operatorName(), actorKind: "operator", scopeTenant: tenants.count == 1 ? tenants[0].id : nil,
                                                action: "rollups_rebuilt", parameters: ["tenants": "\(tenants.count)"], outcome: "ok"))
                return results.map(\.days)
            }
            print("Rebuilt roll-ups of \(results.count) tenant(s), \(results.map { max($0, 0) }.reduce(0, +)) tenant-days.")
        }
    }
}
