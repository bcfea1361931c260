import ArgumentParser
import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres
import TenantScopeServer

struct ExportCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export", abstract: "Create, list, show and download a tenant's exports (operators; audited).",
        discussion: "Jobs run in `serve`'s export worker. Every command acts in one tenant's scope, so another tenant's job id is not found.",
        subcommands: [Create.self, List.self, Show.self, Download.self]
    )

    /// The tenant's scope, from the directory by slug.
    static func scope(_ slug: String, in db: AdminDatabase, logger: Logger) async throws -> TenantScope {
        guard let tenant = try await db.runtime.tenants.find(slug: try parseSlug(slug), logger: logger) else {
            throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
        }
        return ScopePolicy.maintenance(of: tenant.id, job: "export-cli")
    }

    /// Runs `body` with the export service over the configured store, closing the store afterwards.
    static func withService<Result>(_ db: AdminDatabase, exports: ExportOptions, database: DatabaseOptions, logger: Logger,
                                    _ body: (ExportService) async throws -> Result) async throws -> Result {
        let catalog = try StandardReports.catalog()
        return try await exports.withStore(stateDirectory: database.resolvedStateDirectory, logger: logger) { store in
            try await body(ExportService(database: db.runtime, store: store, catalog: catalog))
        }
    }

    static func json(_ status: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(status), as: UTF8.self)
    }

    struct Create: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Queue an export of a report or of the tenant's statements.",
            discussion: "Prints the job as JSON. With --wait, waits (printing progress) until a running server's worker has finished it.")

        @Option(help: "The tenant (its slug).") var tenant: String
        @Option(help: "A catalog report to export.") var report: String?
        @Option(name: .customLong("param"), help: "A report parameter as name=value (repeatable).") var parameters: [String] = []
        @Flag(help: "Export the tenant's raw xAPI statements instead of a report.") var statements = false
        @Option(help: "With --statements: only statements stored at or after this time (ISO 8601).") var since: String?
        @Option(help: "With --statements: only statements stored before this time (ISO 8601).") var until: String?
        @Option(help: "csv (reports), json or ndjson.") var format: String?
        @Flag(help: "Compress the file with gzip.") var gzip = false
        @Flag(help: "Wait until the job is done or failed (a server must be running its export worker).") var wait = false
        @Option(help: "With --wait: give up waiting after this many seconds (the job stays queued or running).")
        var waitTimeout: Double = 3600
        @OptionGroup var exports: ExportOptions
        @OptionGroup var database: DatabaseOptions

        func validate() throws {
            guard (report != nil) != statements else { throw ValidationError("give exactly one of --report NAME or --statements") }
            if since != nil || until != nil, !statements { throw ValidationError("--since and --until go with --statements") }
            for parameter in parameters where !parameter.contains("=") { throw ValidationError("--param takes name=value, got '\(parameter)'") }
            guard waitTimeout >= 1, waitTimeout <= 86_400 else { throw ValidationError("--wait-timeout takes 1 to 86400 seconds, got \(waitTimeout)") }
        }

        var body: String {
            var object: JSONObject = [:]
            if let report {
                object["report"] = .string(report)
                var values: JSONObject = [:]
                for parameter in parameters {
                    let parts = parameter.split(separator: "=", maxSplits: 1)
                    values[String(parts[0])] = .string(parts.count > 1 ? String(parts[1]) : "")
                }
                object["parameters"] = .object(values)
            } else {
                var range: JSONObject = [:]
                if let since { range["since"] = .string(since) }
                if let until { range["until"] = .string(until) }
                object["statements"] = .object(range)
            }
            if let format { object["format"] = .string(format) }
            object["gzip"] = .bool(gzip)
            return JSONValue.object(object).jsonText
        }

        func run(on db: AdminDatabase, logger: Logger) async throws -> ExportStatus {
            let scope = try await ExportCommand.scope(tenant, in: db, logger: logger)
            return try await ExportCommand.withService(db, exports: exports, database: database, logger: logger) { service in
                let actor = ExportService.Actor.commandOperator(operatorName())
                let job = try await service.create(body: Array(body.utf8), by: actor, in: scope, logger: logger)
                // The creation is the audit row; the status reads of the command's own wait are not rows of their own.
                guard wait else { return try await service.status(job.id, for: actor, in: scope, audited: false, logger: logger) }
                var lastRows = -1
                let started = ContinuousClock.now
                var hinted = false
                while true {
                    let status = try await service.status(job.id, for: actor, in: scope, audited: false, logger: logger)
                    if status.state != "queued" && status.state != "running" { return status }
                    if status.rows != lastRows {
                        progress("\(status.state): \(status.rows) rows")
                        lastRows = status.rows
                    }
                    let waited = ContinuousClock.now - started
                    // A job only runs in a server's export worker (probe 38: with none running, the wait was silent for good).
                    if status.state == "queued", !hinted, waited > .seconds(15) {
                        progress("still queued after 15 s: jobs run in a running `tenantscope serve` (its export worker); is one running on this database?")
                        hinted = true
                    }
                    guard waited < .milliseconds(Int64(waitTimeout * 1000)) else {
                        throw TenantScopeError.environment("the export \(job.id.uuidString.lowercased()) is still \(status.state) after \(Int(waitTimeout)) s; "
                                                           + "it stays queued: follow it with `tenantscope export show`")
                    }
                    try await Task.sleep(for: .seconds(1))
                }
            }
        }

        func report(_ output: ExportStatus) throws { print(try ExportCommand.json(output)) }
    }

    struct List: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "List the tenant's exports, newest first.")
        @Option(help: "The tenant (its slug).") var tenant: String
        @OptionGroup var exports: ExportOptions
        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> [ExportStatus] {
            let scope = try await ExportCommand.scope(tenant, in: db, logger: logger)
            return try await ExportCommand.withService(db, exports: exports, database: database, logger: logger) { service in
                try await service.list(for: .commandOperator(operatorName()), in: scope, logger: logger)
            }
        }

        func report(_ output: [ExportStatus]) throws {
            guard !output.isEmpty else { return print("no exports") }
            printTable([["ID", "STATE", "SOURCE", "FORMAT", "ROWS", "CREATED"]] + output.map {
                [$0.id, $0.state, $0.report ?? $0.source, $0.format + ($0.gzip ? ".gz" : ""), "\($0.rows)", $0.created_at]
            })
        }
    }

    struct Show: DatabaseCommand {
        static let configuration = CommandConfiguration(abstract: "Show one export as JSON (with a download link signed now when done).")
        @Option(help: "The tenant (its slug).") var tenant: String
        @Argument(help: "The export's id.") var id: String
        @OptionGroup var exports: ExportOptions
        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> ExportStatus {
            let scope = try await ExportCommand.scope(tenant, in: db, logger: logger)
            guard let job = UUIDText.parse(id) else { throw TenantScopeError.notFound("no export with that id") }
            return try await ExportCommand.withService(db, exports: exports, database: database, logger: logger) { service in
                try await service.status(job, for: .commandOperator(operatorName()), in: scope, logger: logger)
            }
        }

        func report(_ output: ExportStatus) throws { print(try ExportCommand.json(output)) }
    }

    struct Download: DatabaseCommand {
        static let configuration = CommandConfiguration(
            abstract: "Save a finished export's file.", discussion: "Goes through the same checks as the signed link, and is audited as a download.")
        @Option(help: "The tenant (its slug).") var tenant: String
        @Argument(help: "The export's id.") var id: String
        @Option(name: .shortAndLong, help: "Where to write the file.") var output: String
        @OptionGroup var exports: ExportOptions
        @OptionGroup var database: DatabaseOptions

        func run(on db: AdminDatabase, logger: Logger) async throws -> String {
            let scope = try await ExportCommand.scope(tenant, in: db, logger: logger)
            guard let job = UUIDText.parse(id) else { throw TenantScopeError.notFound("no export with that id") }
            return try await ExportCommand.withService(db, exports: exports, database: database, logger: logger) { service in
                // One audit row, the download's, naming the operator (probe 38: it named the link, and the operator nowhere).
                let actor = ExportService.Actor.commandOperator(operatorName())
                let status = try await service.status(job, for: actor, in: scope, audited: false, logger: logger)
                guard let link = status.download_url else { throw TenantScopeError.notFound("the export is \(status.state), it has no file") }
                let (_, download) = try await service.download(token: String(link.dropFirst("/exports/download/".count)), by: actor, logger: logger)
                // An existing file at the target is replaced only once the new one is complete.
                let target = URL(fileURLWithPath: output)
                switch download {
                case .file(let file):
                    try ExportFileDownload.copy(file, to: target)
                case .redirect(let url):
                    // Streamed to disk; progress on standard error, as the file may be large.
                    try await ExportFileDownload.save(url, to: target) { bytes in
                        let megabytes = (Double(bytes) / 1_048_576 * 10).rounded() / 10
                        FileHandle.standardError.write(Data("Downloaded \(megabytes) MiB (\(bytes) bytes)\n".utf8))
                    }
                }
                return "Saved \(status.rows) rows to \(output)"
            }
        }

        func report(_ output: String) throws { print(output) }
    }
}
