import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres
import TenantScopeServer

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Mint signed tokens with the development keys, or revoke a token id.",
        subcommands: [Issue.self, Revoke.self], defaultSubcommand: Issue.self
    )

    struct Issue: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print a signed token: --tenant SLUG --role viewer|analyst|admin, or --platform --operator NAME."
        )

        @Option(help: "Tenant slug (tenant token).")
        var tenant: String?

        @Option(help: "viewer, analyst or admin (tenant token).")
        var role: String = "viewer"

        @Flag(help: "Mint a platform-admin token instead.")
        var platform = false

        @Option(help: "Operator name (platform token).")
        var `operator`: String?

        @Option(help: "Subject (user id) of a tenant token.")
        var subject: String = "cli-user"

        @Option(help: "Signed row attribute, e.g. region=EU (repeatable).")
        var attribute: [String] = []

        @Option(help: "Lifetime in seconds.")
        var ttl: Int = 3600

        @Option(help: "Token issuer (must match the server's --jwt-issuer).")
        var issuer = "tenantscope"

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard ttl > 0 else { throw ValidationError("--ttl must be positive") }
            // What the server would refuse is not minted (probe 38: the command printed tokens no server takes).
            let subject = (platform ? `operator` ?? "" : self.subject).trimmingCharacters(in: .whitespaces)
            guard platform && subject.isEmpty || TokenVerifier.acceptsSubject(subject) else {
                throw ValidationError("\(platform ? "--operator" : "--subject") must be 1-200 characters without control characters or line breaks, "
                                      + "and may not start with lrs-key: (what LRS credentials act as)")
            }
            if platform {
                guard let name = `operator`, !name.isEmpty else { throw ValidationError("--platform needs --operator NAME") }
                guard tenant == nil else { throw ValidationError("a platform token carries no tenant") }
            } else {
                guard tenant != nil else { throw ValidationError("pass --tenant SLUG, or --platform --operator NAME") }
                guard TenantUser.Role(rawValue: role) != nil else { throw ValidationError("--role must be viewer, analyst or admin") }
            }
        }

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            if ttl > 24 * 3600 {
                // The server's --max-token-lifetime may be longer than its default; the token is minted, with a warning.
                FileHandle.standardError.write(Data("warning: a server with the default --max-token-lifetime (24 h) refuses tokens living longer than that\n".utf8))
            }
            let state = database.resolvedStateDirectory
            guard let secrets = try DevelopmentKeys.load(stateDirectory: state, create: true) else { throw ValidationError("no keys") }
            let lifetime = Duration.seconds(ttl)
            if platform {
                let issuer = await TokenIssuer(hs256Secret: secrets.platform, kid: DevelopmentKeys.platformKeyID, issuer: issuer)
                print(try await issuer.platformToken(operator: `operator`!, audience: "tenantscope-platform", lifetime: lifetime))
                return
            }
            let slug = try parseSlug(tenant!)
            let logger = Logger(label: "tenantscope")
            let found = try await database.withDatabase(logger: logger) { db in
                try await db.runtime.tenants.find(slug: slug, logger: logger)
            }
            guard let tenant = found else { throw CLIError(TenantScopeError.notFound("no tenant '\(slug)'; see `tenantscope tenant list`")) }
            var attributes: [String: String] = [:]
            for pair in attribute {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw ValidationError("--attribute takes NAME=VALUE") }
                attributes[String(parts[0])] = String(parts[1])
            }
            let issuer = await TokenIssuer(hs256Secret: secrets.tenant, kid: DevelopmentKeys.tenantKeyID, issuer: issuer)
            print(try await issuer.tenantToken(
                subject: subject, tenant: tenant.id, role: TenantUser.Role(rawValue: role)!, audience: "tenantscope",
                lifetime: lifetime, attributes: attributes
            ))
        }
    }

    struct Revoke: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Add a token id (jti) to the deny list.")

        @Argument(help: "The token's jti.")
        var jti: String

        @Option(help: "Why, for the record.")
        var reason: String?

        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> String {
            try await db.credentials.revokeToken(jti, reason: reason, logger: logger)
            try await db.runtime.audit.append(.operatorAction("token_revoked", tenant: nil, parameters: ["jti": jti]), logger: logger)
            return jti
        }

        func report(_ jti: String) {
            print("Revoked \(jti).")
        }
    }
}
