import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres
import TenantScopeServer

/// `tenantscope verify-isolation`: answers "how do you know tenants are isolated?" against a running
/// deployment, and leaves a report an auditor can read (docs/security.md).
struct VerifyIsolationCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "verify-isolation",
        abstract: "Try to read one probe tenant's data as another, over every route and in the database; write a report.",
        discussion: """
            Checks the schema rules, creates two probe tenants (A and B) with a random canary in every tenant table, \
            calls every route of the server's OpenAPI document as B with each of B's credentials aimed at A's objects, \
            tries the database escapes of docs/security.md as the tenant, platform and server login roles, deletes the \
            probe tenants, and writes isolation-report.json and isolation-report.html. Exit status: 0 when nothing of A \
            reached B, 1 on any finding, 2 when no check found anything but some could not run.
            """
    )

    @Option(help: ArgumentHelp("The running server to check, e.g. http://127.0.0.1:8080.", valueName: "url"))
    var serverURL: String

    @OptionGroup var database: DatabaseOptions

    @OptionGroup(title: "Tokens (the server's keys, to mint the probe tenants' tokens)") var tokens: TokenOptions

    @Option(help: ArgumentHelp("Directory for isolation-report.json and isolation-report.html (created if needed).", valueName: "path"))
    var reportDir = "."

    @Option(help: ArgumentHelp("Seconds before one HTTP request is given up.", valueName: "seconds"))
    var requestTimeout: Double = 30

    func validate() throws {
        guard let url = URL(string: serverURL), ["http", "https"].contains(url.scheme ?? ""), url.host?.isEmpty == false else {
            throw ValidationError("--server-url takes the server's base URL, e.g. http://127.0.0.1:8080")
        }
        guard (1...600).contains(requestTimeout) else { throw ValidationError("--request-timeout takes 1 to 600 seconds") }
    }

    func run() async throws {
        TenantScopeCommand.bootstrapLogging()
        let logger = Logger(label: "tenantscope")
        let started = Date()
        let server = URL(string: serverURL)!
        let keys = try await tokens.issuers(stateDirectory: database.resolvedStateDirectory)
        let issuers = IsolationHTTPProbe.Issuers(tenant: keys.tenant, platform: keys.platform)
        let timeout = requestTimeout

        let (checks, schemaVersion, probe) = try await database.withDatabase(logger: logger, migrating: false) { admin in
            let db = IsolationDatabaseChecks(admin: admin, logger: logger)
            var checks: [IsolationCheck] = []
            let schemaVersion = try? await db.schemaVersion()
            progress("Checking the schema rules")
            checks += await db.schema()

            progress("Creating two probe tenants with a canary in every tenant table")
            let probe: IsolationProbe
            do {
                probe = try await IsolationProbe.create(in: admin, logger: logger, progress: progress)
            } catch {
                checks.append(IsolationCheck(area: .control, attempt: "create the probe tenants", credential: "owner", status: "failed",
                                             outcome: .error, detail: CLIError(error).description))
                try await Self.audit(admin, checks: checks, probe: nil, server: server, logger: logger)
                return (checks, schemaVersion, IsolationProbe?.none)
            }
            // The run's own audit row names the probes too; a failure here costs the record of when they appeared.
            do {
                _ = try await admin.runtime.audit.append(.operatorAction("isolation_probes_created", tenant: nil, parameters: [
                    "a": probe.a.tenant.slug.rawValue, "b": probe.b.tenant.slug.rawValue, "server": server.absoluteString,
                ]), logger: logger)
            } catch {
                logger.warning("Could not audit the probe tenants' creation", metadata: ["error.type": "\(type(of: error))"])
            }

            progress("Calling every route of \(server.absoluteString) as B")
            let http = IsolationHTTPProbe(server: server, issuers: issuers, timeout: timeout)
            checks += await http.run(probe, progress: progress)
            progress("Reading every tenant table as B, as the platform role and as the server's two logins")
            checks += await db.tables(probe)
            progress("Trying the database escapes of docs/security.md")
            checks += await db.escapes(probe)

            progress("Deleting the probe tenants")
            // Through the server, which removes their export files too; in the database what it could not delete.
            let removal = await http.removeProbeTenants(probe)
            checks += removal.checks
            checks += await IsolationProbe.remove(removal.left, from: admin, logger: logger)
            checks += await Self.dedicatedClusterChecks(admin, logger: logger)
            try await Self.audit(admin, checks: checks, probe: probe, server: server, logger: logger)
            return (checks, schemaVersion, Optional(probe))
        }

        let report = IsolationReport(
            serverURL: server.absoluteString, startedAt: started, finishedAt: Date(), commit: Self.gitCommit(), schemaVersion: schemaVersion,
            victim: probe.map { .init(slug: $0.a.tenant.slug.rawValue, tenantID: $0.a.tenant.id.description, canary: $0.a.canary) },
            attacker: probe.map { .init(slug: $0.b.tenant.slug.rawValue, tenantID: $0.b.tenant.id.description, canary: $0.b.canary) },
            checks: checks)
        let directory = URL(fileURLWithPath: reportDir).standardizedFileURL
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data((report.json.jsonText(sortingKeys: true) + "\n").utf8).write(to: directory.appendingPathComponent("isolation-report.json"))
            try Data(IsolationReportPage.render(report).utf8).write(to: directory.appendingPathComponent("isolation-report.html"))
        } catch {
            throw CLIError(TenantScopeError.environment("cannot write the report to \(directory.path): \(error)"))
        }
        for failure in report.failures.prefix(40) {
            progress("\(failure.outcome.rawValue.uppercased()): \(failure.attempt) — \(failure.credential): \(failure.detail)")
        }
        if report.failures.count > 40 { progress("… and \(report.failures.count - 40) more in the report") }
        progress("Report: \(directory.appendingPathComponent("isolation-report.html").path) (and isolation-report.json)")
        print(report.summaryLine)
        let summary = report.summary
        if summary.findings > 0 { throw ExitCode(1) }
        if summary.errors > 0 { throw ExitCode(2) }
    }

    /// The database checks again in each dedicated cluster's own database (architecture decision 49): its
    /// schema rules and hardening, then two probe tenants of its own read and attacked there as above. Every
    /// check's attempt names the cluster. The HTTP checks need no repeat: they reach every cluster through the
    /// same routing, which `TenantPlacementTests` and `PlacementServeTests` cover.
    static func dedicatedClusterChecks(_ admin: AdminDatabase, logger: Logger) async -> [IsolationCheck] {
        let endpoints: [(ClusterName, DatabaseEndpoint)]
        do {
            endpoints = try await admin.clusters.dedicatedOwnerEndpoints(logger: logger)
        } catch {
            return [IsolationCheck(area: .control, attempt: "list the dedicated clusters", credential: "owner", status: "failed",
                                   outcome: .error, detail: CLIError(error).description)]
        }
        var checks: [IsolationCheck] = []
        for (name, owner) in endpoints {
            progress("Checking the dedicated cluster \(name): schema rules, every tenant table, the database escapes")
            var found: [IsolationCheck] = []
            do {
                let cluster = try await AdminDatabase.open(ownerEndpoint: owner, logger: logger)
                found = try await cluster.withRunningClients {
                    let db = IsolationDatabaseChecks(admin: cluster, logger: logger)
                    var found = await db.schema()
                    let probe = try await IsolationProbe.create(in: cluster, logger: logger, progress: progress)
                    found += await db.tables(probe)
                    found += await db.escapes(probe)
                    found += await probe.remove(from: cluster, logger: logger)
                    return found
                }
            } catch {
                found.append(IsolationCheck(area: .control, attempt: "check the dedicated cluster", credential: "owner", status: "failed",
                                            outcome: .error, detail: CLIError(error).description))
            }
            checks += found.map { check in
                var check = check
                check.attempt = "[cluster \(name)] " + check.attempt
                return check
            }
        }
        return checks
    }

    /// One audit row for the run, as other operator commands write them.
    static func audit(_ admin: AdminDatabase, checks: [IsolationCheck], probe: IsolationProbe?, server: URL, logger: Logger) async throws {
        let findings = checks.filter { $0.outcome == .finding }.count
        let errors = checks.filter { $0.outcome == .error }.count
        var parameters = ["server": server.absoluteString, "checks": "\(checks.count)", "findings": "\(findings)", "errors": "\(errors)"]
        if let probe {
            parameters["a"] = probe.a.tenant.slug.rawValue
            parameters["b"] = probe.b.tenant.slug.rawValue
        }
        try await admin.runtime.audit.append(.init(
            actor: operatorName(), actorKind: "operator", scopeTenant: nil, action: "isolation_verified", parameters: parameters,
            outcome: findings > 0 ? "findings" : errors > 0 ? "errors" : "ok"), logger: logger)
    }

    /// `git rev-parse HEAD` in the current directory, or nil.
    static func gitCommit() -> String? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["git", "rev-parse", "HEAD"]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return nil }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let commit = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return process.terminationStatus == 0 && commit.count == 40 ? commit : nil
    }
}
