import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct SessionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "session", abstract: "End dashboard sessions before they expire.", subcommands: [Revoke.self]
    )

    struct Revoke: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "End every dashboard session of a tenant, or of one user in it, opened until now.",
            discussion: "Running servers refuse those sessions within about a second (their credential cache's refresh)."
        )

        @Option(help: "The tenant's slug.")
        var tenant: String

        @Option(name: .customLong("sub"), help: "Only this user's sessions (the token's sub).")
        var subject: String?

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            _ = try parseSlug(tenant)
            if let subject, subject.isEmpty || subject.count > 200 { throw ValidationError("--sub takes 1 to 200 characters") }
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> String {
            let slug = try parseSlug(tenant)
            guard let found = try await db.runtime.tenants.find(slug: slug, logger: logger) else {
                throw TenantScopeError.notFound("no tenant with the slug '\(slug)'; see `tenantscope tenant list`")
            }
            try await db.credentials.revokeSessions(tenant: found.id, subject: subject, logger: logger)
            try await db.runtime.audit.append(.operatorAction("sessions_revoked", tenant: found.id,
                                                              parameters: subject.map { ["sub": $0] } ?? [:]), logger: logger)
            return subject.map { "Ended the dashboard sessions of \($0) in \(slug)." } ?? "Ended every dashboard session of \(slug)."
        }

        func report(_ message: String) {
            print(message)
        }
    }
}
