import ArgumentParser
import Foundation
import Logging
import Metrics
import TenantScopeCore
import TenantScopePostgres
import TenantScopeServer

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the HTTP server (starting the embedded PostgreSQL unless --database-url is given)."
    )

    @OptionGroup var database: DatabaseOptions

    @OptionGroup(title: "Tokens") var tokens: TokenOptions

    @Flag(help: "Create the demo tenants acme, globex and initech with ~120 days of learning data (idempotent).")
    var demo = false

    @Option(help: "Gzip JSON Lines file of real xAPI statements to spread over the demo tenants.")
    var demoStatements = DemoDataLoader.defaultRealStatementsPath

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8080

    @Option(help: "Largest request body accepted, in bytes (statement and event batches); larger ones get 413.")
    var maxBodyBytes = ServerConfiguration.defaultMaximumBodyBytes

    @Option(name: .customLong("embed-origin"), help: ArgumentHelp(
        "An origin allowed to frame the dashboards, e.g. https://lms.example.com (repeatable; sent as CSP frame-ancestors).",
        discussion: "With --demo, http://localhost:* and http://127.0.0.1:* are allowed too."))
    var embedOrigins: [String] = []

    @Option(help: ArgumentHelp(
        "Seconds between roll-up passes while ingest is steady (derived facts and past-day roll-ups lag it by about this plus a pass) or absent; the end of a burst is derived sooner (--rollup-quiet-period).",
        valueName: "seconds"))
    var rollupInterval: Double = Double(RollupService.defaultInterval.components.seconds)

    @Option(help: ArgumentHelp(
        "How many tenants a roll-up pass catches up at once, each on a connection of its own (1 to \(RollupService.maximumConcurrency)); more than 1 shortens a pass over many tenants only where PostgreSQL has idle cores, and takes them from ingest and reports while it runs.",
        valueName: "tenants"))
    var rollupConcurrency = RollupService.defaultConcurrency

    @Option(help: ArgumentHelp(
        "Seconds this server's ingest must be quiet, after it stored statements, for a roll-up pass to start before --rollup-interval is up, so the end of a burst is derived at once (0: keep to the interval; default: \(RollupService.defaultQuietPeriod.inSeconds), or --rollup-interval where that is shorter).",
        valueName: "seconds"))
    var rollupQuietPeriod: Double?

    @Option(help: ArgumentHelp(
        "How many tenants a roll-up pass that quiet ingest started catches up at once (1 to \(RollupService.maximumConcurrency); never fewer than --rollup-concurrency): ingest is idle then, so its cores are free. Once ingest resumes, the pass starts no more catch-ups than --rollup-concurrency allows.",
        valueName: "tenants"))
    var rollupQuietConcurrency = RollupService.defaultQuietConcurrency

    @Option(help: ArgumentHelp(
        "Seconds a roll-up catch-up waits for its tenant's derivation lock, held by another derivation of the tenant (a `rollups rebuild`, a learner erasure, another server's pass), before the pass leaves that tenant to the next one and goes on (0.1 to 3600).",
        valueName: "seconds"))
    var rollupLockWait: Double = RollupService.defaultLockWait.inSeconds

    @Option(help: ArgumentHelp(
        "Longest a request's SQL statement may run before PostgreSQL cancels it; the request gets 503. The client closes the connection 5 s later if the server does not answer at all.",
        valueName: "seconds"))
    var statementTimeout: Double = 30

    @Option(help: ArgumentHelp(
        "Longest a request waits for a free database connection before it gets 503 with Retry-After.",
        valueName: "seconds"))
    var acquireTimeout: Double = Double(DatabasePool.defaultAcquireTimeout.components.seconds)

    @Option(help: ArgumentHelp(
        "Seconds a connection may send nothing, while a request is read or between requests, before it is closed (answers being written are not cut). A request holds its tenant's slot while its body is read, so a stalled body holds it this long at most.",
        valueName: "seconds"))
    var idleTimeout: Double = ServerConfiguration.defaultIdleTimeout.inSeconds

    @Option(help: ArgumentHelp(
        "Port of a separate listener that serves only GET /metrics (Prometheus text, no authentication); none unless given (0 picks a free one).",
        valueName: "port"))
    var metricsPort: Int?

    @Option(help: "Address of the metrics listener; keep it on a network only the scraper reaches.")
    var metricsHost = "127.0.0.1"

    @Option(help: ArgumentHelp(
        "Memory for the tenant-keyed cache of report answers, in MiB (0 turns it off). An answer is reused until the tenant's roll-ups next change, seen within about a second.",
        valueName: "MiB"))
    var reportCacheMb = ReportResultCache.defaultMaximumBytes >> 20

    // `--report-functions` was this flag's name before statement batches used session functions too.
    @Flag(name: [.customLong("session-functions"), .customLong("report-functions")], inversion: .prefixedNo, help: ArgumentHelp(
        "Run each uncached tenant or platform report, each statement or product-event batch and each single-statement tenant read or write (the LRS, xAPI documents, saved views, custom reports, the export API) in one round trip, as a call of a function the server's logins create in their sessions' temporary schemas (architecture decisions 61 to 63). Turn off behind a pooler in transaction mode, where a session's functions and statement timeout do not follow its statements."))
    var sessionFunctions = true

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Apply each tenant's tier limits: request rates on the API and the LRS, concurrent report work, the tier's connection budget (see `tenantscope tier list`)."))
    var tenantLimits = true

    @Option(help: ArgumentHelp("Seconds a tenant's report request waits for its turn (and again for its tier's) before 429 with Retry-After.",
                               valueName: "seconds"))
    var tenantQueueWait: Double = 10

    @Option(help: ArgumentHelp(
        "Seconds a request over its tenant's rate waits for its tokens (it is paced to the rate); one whose tokens come later is answered 429 when this wait is over. 0 refuses at once.",
        valueName: "seconds"))
    var tenantRateWait = Double(TenantLimitEnforcer.Settings.defaultRateWait.components.seconds)

    @Option(help: ArgumentHelp("Seconds between reloads of the tier limits and overrides; changes apply within this long.", valueName: "seconds"))
    var tenantLimitsRefresh: Double = 5

    @OptionGroup(title: "Read replicas") var replicaOptions: ReplicaOptions

    @OptionGroup(title: "Exports") var exportOptions: ExportOptions

    @Option(help: ArgumentHelp("Export jobs this process runs at once (0 runs none: another process's worker takes them).", valueName: "count"))
    var exportWorkers = ExportSettings().workers

    @Option(help: ArgumentHelp("Days a finished export's file is kept before the job expires.", valueName: "days"))
    var exportRetentionDays: Double = 7

    @Option(help: ArgumentHelp("Rows one export may hold; a larger one fails with a reason.", valueName: "rows"))
    var exportRowLimit = ExportSettings().rowLimit

    @Option(help: ArgumentHelp("Seconds one export attempt may read before it fails.", valueName: "seconds"))
    var exportTimeLimit: Double = 3600

    @Option(help: ArgumentHelp(
        "Seconds an export attempt holds its job without a heartbeat; a job whose process died is taken over after this.",
        valueName: "seconds"))
    var exportLease: Double = 30

    @Flag(help: "Set dashboard session cookies Secure; SameSite=None (for HTTPS behind a proxy that does not send X-Forwarded-Proto).")
    var secureCookies = false

    /// The quiet period the roll-up service keeps (nil: none): the option's, or the default, shortened to the interval
    /// where the interval is shorter (a quiet period longer than the interval would never end a wait).
    var quietPeriod: Duration? {
        let seconds = rollupQuietPeriod ?? min(RollupService.defaultQuietPeriod.inSeconds, rollupInterval)
        return seconds == 0 ? nil : .milliseconds(Int64((seconds * 1000).rounded()))
    }

    func validate() throws {
        guard rollupInterval >= 0.05, rollupInterval <= 3600 else {
            throw ValidationError("--rollup-interval takes seconds between 0.05 and 3600, got \(rollupInterval)")
        }
        if let rollupQuietPeriod, rollupQuietPeriod != 0, !(rollupQuietPeriod >= 0.01 && rollupQuietPeriod <= rollupInterval) {
            throw ValidationError("--rollup-quiet-period takes 0 or seconds between 0.01 and --rollup-interval (\(rollupInterval)), got \(rollupQuietPeriod)")
        }
        guard rollupLockWait >= 0.1, rollupLockWait <= 3600 else {
            throw ValidationError("--rollup-lock-wait takes seconds between 0.1 and 3600, got \(rollupLockWait)")
        }
        try RollupConcurrency.validate(rollupConcurrency, option: "--rollup-concurrency")
        try RollupConcurrency.validate(rollupQuietConcurrency, option: "--rollup-quiet-concurrency")
        // Checked before anything starts (probe 38: --port 70000 listened on 4464, and a body limit of 0 or less was taken
        // and refused every write).
        guard (0...65535).contains(port) else { throw ValidationError("--port takes 0 (any free port) to 65535, got \(port)") }
        if let metricsPort, !(0...65535).contains(metricsPort) {
            throw ValidationError("--metrics-port takes 0 (any free port) to 65535, got \(metricsPort)")
        }
        guard maxBodyBytes >= 1024 else { throw ValidationError("--max-body-bytes takes at least 1024 bytes, got \(maxBodyBytes)") }
        guard statementTimeout >= 0.1, statementTimeout <= 3600 else {
            throw ValidationError("--statement-timeout takes seconds between 0.1 and 3600, got \(statementTimeout)")
        }
        guard idleTimeout >= 1, idleTimeout <= 3600 else {
            throw ValidationError("--idle-timeout takes seconds between 1 and 3600, got \(idleTimeout)")
        }
        guard acquireTimeout >= 0.1, acquireTimeout <= 600 else {
            throw ValidationError("--acquire-timeout takes seconds between 0.1 and 600, got \(acquireTimeout)")
        }
        guard reportCacheMb >= 0, reportCacheMb <= 65536 else {
            throw ValidationError("--report-cache-mb takes MiB between 0 and 65536, got \(reportCacheMb)")
        }
        guard tenantLimitsRefresh >= 0.1, tenantLimitsRefresh <= 3600 else {
            throw ValidationError("--tenant-limits-refresh takes seconds between 0.1 and 3600, got \(tenantLimitsRefresh)")
        }
        guard tenantQueueWait >= 0, tenantQueueWait <= 600 else {
            throw ValidationError("--tenant-queue-wait takes seconds between 0 and 600, got \(tenantQueueWait)")
        }
        guard tenantRateWait >= 0, tenantRateWait <= 60 else {
            throw ValidationError("--tenant-rate-wait takes seconds between 0 and 60, got \(tenantRateWait)")
        }
        guard (0...64).contains(exportWorkers) else { throw ValidationError("--export-workers takes 0 to 64, got \(exportWorkers)") }
        guard exportRetentionDays > 0, exportRetentionDays <= 3650 else {
            throw ValidationError("--export-retention-days takes days between 0 and 3650, got \(exportRetentionDays)")
        }
        guard exportRowLimit >= 1 else { throw ValidationError("--export-row-limit takes a positive number of rows") }
        guard exportTimeLimit >= 1, exportTimeLimit <= 86400 else {
            throw ValidationError("--export-time-limit takes seconds between 1 and 86400, got \(exportTimeLimit)")
        }
        guard exportLease >= 1, exportLease <= 3600 else { throw ValidationError("--export-lease takes seconds between 1 and 3600, got \(exportLease)") }
        if let metricsPort, metricsPort < 0 || metricsPort > 65535 || metricsPort == port && port != 0 {
            throw ValidationError("--metrics-port takes a port other than --port's, got \(metricsPort)")
        }
        for origin in embedOrigins {
            guard origin.hasPrefix("https://") || origin.hasPrefix("http://"), !origin.contains(" "), !origin.contains(";") else {
                throw ValidationError("--embed-origin takes an origin such as https://lms.example.com, got '\(origin)'")
            }
        }
    }

    /// Everything that needs the owner happens here, before the port opens, on connections that are closed
    /// again: migrations, reading the server role's password, creating the demo tenants. What comes back
    /// holds only the server role's pool (architecture decision 21). Given the server role's own URL
    /// (`tenantscope db app-url`), serve needs no owner credentials at all and migrates nothing.
    func startUp(embedded: EmbeddedPostgres?, replicas: [EmbeddedReplica], logger: Logger, metrics: ServerMetrics) async throws -> Database {
        let checkpoints = try database.auditCheckpoints()
        let endpoint = try await database.ownerEndpoint(embedded: embedded)
        let replicaConfiguration = try await replicaOptions.configuration(primary: endpoint, embedded: replicas)
        if let replicaConfiguration {
            progress("Reports, SQL and exports read from \(replicaConfiguration.endpoints.count) replica(s) while they are at most \(replicaConfiguration.maximumLag) behind")
        }
        if endpoint.username == Database.appRole {
            guard !demo else { throw ValidationError("--demo creates tenants, which needs the owner's URL, not the server role's") }
            progress("Connecting as \(Database.appRole): no migrations (run `tenantscope migrate` with the owner's URL)")
            return try await Database.open(appEndpoint: endpoint, logger: logger, checkpoints: checkpoints, limits: limits, metrics: metrics.factory,
                                           replicas: replicaConfiguration)
        }
        if demo {
            let admin = try await AdminDatabase.prepare(ownerEndpoint: endpoint, logger: logger, checkpoints: checkpoints, progress: progress)
            try await admin.withRunningClients {
                try await DemoDataLoader.createTenants(in: admin, logger: logger)
                try await checkpoints.flush(admin.runtime.audit, logger: logger)
            }
            return try await Database.open(appEndpoint: admin.runtime.appEndpoint, logger: logger, checkpoints: checkpoints, limits: limits,
                                           metrics: metrics.factory, replicas: replicaConfiguration)
        }
        return try await Database.prepare(ownerEndpoint: endpoint, logger: logger, checkpoints: checkpoints, limits: limits,
                                          metrics: metrics.factory, replicas: replicaConfiguration, progress: progress)
    }

    var limits: Database.Limits {
        Database.Limits(acquireTimeout: .milliseconds(Int64(acquireTimeout * 1000)),
                        statementTimeout: .milliseconds(Int64(statementTimeout * 1000)), sessionFunctions: sessionFunctions)
    }

    func run() async throws {
        TenantScopeCommand.bootstrapLogging()
        let logger = Logger(label: "tenantscope")
        // Once per process: libraries that report through the global system land in the same registry.
        let metrics = ServerMetrics()
        MetricsSystem.bootstrap(metrics.factory)
        let embedded = database.embedded(logger: logger)
        let embeddedReplicas = try replicaOptions.embeddedReplicas(of: embedded, logger: logger)
        do {
            let db = try await startUp(embedded: embedded, replicas: embeddedReplicas, logger: logger, metrics: metrics)
            if let embedded, await embedded.claimForServe() == .adopted {
                progress("Adopted the embedded PostgreSQL a stopped serve left running: this server stops it when it exits")
            }
            var loadDemo: (@Sendable () async throws -> Void)?
            if demo {
                let path = demoStatements
                loadDemo = { @Sendable in
                    _ = try await DemoDataLoader(database: db, logger: logger).load(realStatementsPath: path, progress: progress)
                }
            }
            let host = self.host
            let metricsHost = self.metricsHost
            let demo = self.demo
            let stateDirectory = database.resolvedStateDirectory
            if tokens.usesDevelopmentKeys {
                progress("Using development token keys from \(database.resolvedStateDirectory)/keys (mint tokens with `tenantscope token`)")
            }
            let credentials = CredentialCache(store: db.credentialState, horizon: tokens.configuration.revocationHorizon, logger: logger)
            let verifier = try await tokens.verifier(stateDirectory: database.resolvedStateDirectory, status: credentials)
            var exportSettings = ExportSettings()
            exportSettings.workers = exportWorkers
            exportSettings.retention = .seconds(Int64(exportRetentionDays * 86400))
            exportSettings.rowLimit = exportRowLimit
            exportSettings.timeLimit = .milliseconds(Int64(exportTimeLimit * 1000))
            exportSettings.lease = .milliseconds(Int64(exportLease * 1000))
            var exports = try exportOptions.configuration(stateDirectory: stateDirectory, settings: exportSettings, logger: logger)
            exports.runsWorker = exportWorkers > 0
            progress("Exports are kept as \(exports.store.location)")
            var configuration = ServerConfiguration(
                host: host, port: port, maximumBodyBytes: maxBodyBytes,
                rollupInterval: .milliseconds(Int64(rollupInterval * 1000)), rollupConcurrency: rollupConcurrency,
                rollupQuietPeriod: quietPeriod,
                rollupQuietConcurrency: rollupQuietConcurrency, rollupLockWait: .milliseconds(Int64((rollupLockWait * 1000).rounded())),
                embedding: EmbeddingPolicy(
                    allowedOrigins: embedOrigins + (demo ? ["http://localhost:*", "http://127.0.0.1:*"] : []),
                    alwaysSecure: secureCookies),
                metricsListener: metricsPort.map { .init(host: metricsHost, port: $0) },
                reportCacheBytes: reportCacheMb << 20, exports: exports,
                tenantLimits: tenantLimits ? .init(
                    maximumWait: .milliseconds(Int64(tenantQueueWait * 1000)),
                    rateWait: .milliseconds(Int64(tenantRateWait * 1000)),
                    refreshInterval: .milliseconds(Int64(tenantLimitsRefresh * 1000))) : nil
            )
            configuration.idleTimeout = .milliseconds(Int64((idleTimeout * 1000).rounded()))
            let app = buildApplication(
                database: db, configuration: configuration, tokens: verifier,
                catalog: try StandardReports.catalog(), logger: logger, metrics: metrics,
                services: embedded.map { [EmbeddedPostgresSupervisor(embedded: $0, logger: logger)] } ?? [],
                beforeServerStarts: loadDemo,
                onServerRunning: { port in
                    let line = "TenantScope is running at http://\(host):\(port)  (health: /healthz, readiness: /readyz; Ctrl-C stops it)\n"
                    FileHandle.standardOutput.write(Data(line.utf8))
                    if demo {
                        progress("Dashboard: open http://\(host):\(port)/embed/learning?token=$(tenantscope token --tenant acme --state-dir \(stateDirectory))")
                    }
                },
                onMetricsRunning: { port in
                    FileHandle.standardOutput.write(Data("Metrics at http://\(metricsHost):\(port)/metrics\n".utf8))
                }
            )
            // Runs until SIGINT/SIGTERM, then shuts the server and the pools down gracefully.
            try await app.runService()
            // What this server started (or started again after it stopped) it stops; a cluster it found running belongs to
            // whoever started it: another `serve` on the same state directory, or `db start`, whose `db stop` stops it.
            for replica in embeddedReplicas {
                if try await replica.stopIfStartedHere() { progress("Stopped read replica \(replica.name)") }
            }
            if let embedded, try await embedded.stopIfStartedHere() {
                progress("Stopped PostgreSQL")
            }
        } catch {
            for replica in embeddedReplicas { _ = try? await replica.stopIfStartedHere() }
            _ = try? await embedded?.stopIfStartedHere()
            throw CLIError(error)
        }
    }
}
