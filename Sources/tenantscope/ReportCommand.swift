import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

struct ReportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report", abstract: "Run catalog reports from the command line (operators, benchmarks).",
        subcommands: [Run.self]
    )

    struct Run: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Run a report as a tenant or across tenants, served (roll-ups) or cold (raw tables), and time it.",
            discussion: "Runs through the same report helper as the API. Every run is audited."
        )

        @Argument(help: "The report's name (see GET /api/v1/reports).")
        var name: String

        @Option(help: "Run in this tenant's scope (its slug).")
        var tenant: String?

        @Flag(help: "Run on the platform surface (across tenants, from roll-ups).")
        var platform = false

        @Flag(help: "Compute the answer from raw tables instead of roll-ups.")
        var cold = false

        @Option(name: .customLong("param"), help: "A report parameter as name=value (repeatable).")
        var parameters: [String] = []

        @Option(help: "Run this many times and report the median and minimum latency.")
        var `repeat` = 1

        @Flag(help: "Print only the timing line (for benchmarks).")
        var quiet = false

        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard platform != (tenant != nil) else { throw ValidationError("give exactly one of --tenant SLUG or --platform") }
            guard (1...10_000).contains(`repeat`) else { throw ValidationError("--repeat must be 1...10000") }
            for parameter in parameters where !parameter.contains("=") { throw ValidationError("--param takes name=value, got '\(parameter)'") }
        }

        func run() async throws {
            TenantScopeCommand.bootstrapLogging()
            let logger = Logger(label: "tenantscope")
            let (name, platform, path, times, quiet) = (self.name, self.platform, cold ? ReportRunner.Path.cold : .served, self.repeat, self.quiet)
            let pairs = parameters.map { parameter -> (String, String) in
                let parts = parameter.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
            let slug: TenantSlug?
            do { slug = try tenant.map(TenantSlug.init) } catch { throw ValidationError(error.description) }
            let (result, latencies) = try await database.withDatabase(logger: logger) { db in
                let principal: Principal
                if let slug {
                    guard let found = try await db.tenants.find(slug: slug) else { throw TenantScopeError.notFound("no tenant with the slug '\(slug)'") }
                    principal = .tenantUser(TenantUser(subject: operatorName(), tenant: found.id, role: .admin))
                    try await db.audit.append(.init(actor: operatorName(), actorKind: "operator", scopeTenant: found.id,
                                                    action: "operator_tenant_report", report: name,
                                                    parameters: ["path": path.rawValue, "runs": "\(times)"], outcome: "ok"))
                } else {
                    principal = .platformAdmin(operator: operatorName())
                }
                let runner = ReportRunner(catalog: try StandardReports.catalog(), database: db, logger: logger)
                var latencies: [Double] = []
                var result: ReportResult?
                let clock = ContinuousClock()
                for _ in 0..<times {
                    let start = clock.now
                    result = try await runner.run(principal, report: name, surface: platform ? .platform : .tenant, parameters: pairs, path: path)
                    let elapsed = clock.now - start
                    latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                }
                return (result!, latencies)
            }
            if !quiet {
                print(result.fields.map(\.name).joined(separator: "\t"))
                for row in result.rows { print(row.map(\.description).joined(separator: "\t")) }
            }
            let sorted = latencies.sorted()
            let median = String(format: "%.3f", sorted[sorted.count / 2])
            let minimum = String(format: "%.3f", sorted[0])
            print("timing report=\(name) path=\(path.rawValue) runs=\(sorted.count) median_ms=\(median) min_ms=\(minimum) rows=\(result.rows.count)")
        }
    }
}
