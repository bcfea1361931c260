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

    struct Run: DatabaseCommand {
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
            _ = try tenant.map(parseSlug)
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> (ReportResult, [Double]) {
            let path = cold ? ReportRunner.Path.cold : .served
            let pairs = parameters.map { parameter -> (String, String) in
                let parts = parameter.split(separator: "=", maxSplits: 1)
                return (String(parts[0]), parts.count > 1 ? String(parts[1]) : "")
            }
            let scope: DataScope
            if let tenant {
                let slug = try parseSlug(tenant)
                guard let found = try await db.runtime.tenants.find(slug: slug, logger: logger) else {
                    throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
                }
                scope = .tenant(ScopePolicy.maintenance(of: found.id, job: "report-run"))
                try await db.runtime.audit.append(.operatorAction("operator_tenant_report", tenant: found.id, report: name,
                                                          parameters: ["path": path.rawValue, "runs": "\(self.repeat)"]), logger: logger)
            } else {
                scope = .platform(ScopePolicy.platformCommand(operator: operatorName()))
            }
            let runner = ReportRunner(catalog: try StandardReports.catalog(), database: db.runtime)
            var latencies: [Double] = []
            var result: ReportResult?
            let clock = ContinuousClock()
            for _ in 0..<self.repeat {
                let start = clock.now
                result = try await runner.run(name, in: scope, parameters: pairs, path: path, logger: logger)
                let elapsed = clock.now - start
                latencies.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
            }
            return (result!, latencies)
        }

        func report(_ output: (ReportResult, [Double])) {
            let (result, latencies) = output
            if !quiet {
                print(result.fields.map(\.name).joined(separator: "\t"))
                for row in result.rows { print(row.map(\.description).joined(separator: "\t")) }
            }
            let sorted = latencies.sorted()
            let median = String(format: "%.3f", sorted[sorted.count / 2])
            let minimum = String(format: "%.3f", sorted[0])
            print("timing report=\(name) path=\(cold ? "cold" : "served") runs=\(sorted.count) median_ms=\(median) min_ms=\(minimum) rows=\(result.rows.count)")
        }
    }
}
