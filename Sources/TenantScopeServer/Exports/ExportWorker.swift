import Foundation
import Logging
import ServiceLifecycle
import TenantScopeCore
import TenantScopePostgres

/// Runs export jobs in the background (a service of `serve`): `settings.workers` loops, each asking which
/// tenants have export work, queuing the jobs of due schedules, expiring old files, and claiming one job at
/// a time in its tenant's scope (architecture decision 44).
///
/// An attempt writes to a local partial file named after the job and the attempt, then hands the complete
/// file to the object store, so a store never holds a partial object. A process that dies mid-export
/// leaves a running job whose lease runs out; the next claim starts it again from the beginning (a new
/// attempt, counted), and removes the partial file the dead attempt left.
public struct ExportWorker: Service {
    let jobs: ExportJobStore
    let schedules: ExportScheduleStore
    let reader: ExportReader
    let store: any ExportObjectStore
    let audit: AuditLog
    let settings: ExportSettings
    let partialDirectory: URL
    let logger: Logger
    /// Names this process in the jobs it holds.
    let name: String

    public init(database: Database, reader: ExportReader, store: any ExportObjectStore, settings: ExportSettings,
                partialDirectory: URL, logger: Logger) {
        self.jobs = database.exportJobs
        self.schedules = database.exportSchedules
        self.reader = reader
        self.store = store
        self.audit = database.audit
        self.settings = settings
        self.partialDirectory = partialDirectory
        self.logger = logger
        self.name = "\(ProcessInfo.processInfo.hostName):\(getpid()):\(UUID().uuidString.prefix(8))"
    }

    public func run() async throws {
        try FileManager.default.createDirectory(at: partialDirectory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<max(settings.workers, 1) {
                    group.addTask { await self.loop(housekeeping: index == 0) }
                }
            }
        }
    }

    private func loop(housekeeping: Bool) async {
        while !Task.isCancelled {
            var ranJob = false
            do {
                ranJob = try await step(housekeeping: housekeeping)
            } catch where Task.isCancelled {
                break
            } catch {
                logger.warning("Export worker step failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
            }
            if !ranJob { try? await Task.sleep(for: settings.pollInterval) }
        }
    }

    /// One look for work; true when a job ran (so the loop looks again at once). `among` limits it to
    /// some tenants (tests share one database with other tests' tenants).
    func step(housekeeping: Bool, among: Set<TenantID>? = nil) async throws -> Bool {
        let pending = try await jobs.pendingWork(logger: logger).filter { among?.contains($0.tenant) ?? true }
        if housekeeping {
            for work in pending where work.dueSchedules > 0 || work.expiring > 0 || work.removals > 0 {
                try await tidy(work.tenant, schedules: work.dueSchedules > 0, expiring: work.expiring > 0)
            }
        }
        for work in pending.shuffled() where work.runnable > 0 {
            let scope = ScopePolicy.maintenance(of: work.tenant, job: "export")
            guard let claim = try await jobs.claim(in: scope, worker: name, lease: settings.lease, maximumAttempts: settings.maximumAttempts,
                                                   perTenantLimit: settings.perTenant, logger: logger)
            else { continue }
            await run(claim)
            return true
        }
        return false
    }

    /// Queues the jobs of due schedules, expires finished files past their retention, and removes the files queued for
    /// removal (the expired ones, and those an erasure could not remove), for one tenant.
    func tidy(_ tenant: TenantID, schedules due: Bool, expiring: Bool) async throws {
        let scope = ScopePolicy.maintenance(of: tenant, job: "export")
        if due {
            for job in try await schedules.enqueueDue(in: scope, logger: logger) {
                try await audit.append(.init(actor: "system:export-schedule", actorKind: "system", scopeTenant: tenant,
                                             action: "export_scheduled", report: Self.reportName(job.source),
                                             parameters: ["job": job.id.uuidString.lowercased(),
                                                          "schedule": job.scheduleID?.uuidString.lowercased() ?? "",
                                                          "requested_by": job.requestedBy],
                                             outcome: "queued"), logger: logger)
            }
        }
        if expiring {
            let expired = try await jobs.expireDue(in: scope, logger: logger)
            try await Self.remove(expired.map(\.objectKey), of: scope, jobs: jobs, store: store, logger: logger)
            for job in expired {
                try await audit.append(.init(actor: "system:export-retention", actorKind: "system", scopeTenant: tenant,
                                             action: "export_expired", parameters: ["job": job.id.uuidString.lowercased()],
                                             outcome: "removed"), logger: logger)
            }
        }
        try await Self.remove(try await jobs.pendingRemovals(in: scope, queuedBefore: settings.removalRetryAge, logger: logger),
                              of: scope, jobs: jobs, store: store, logger: logger)
    }

    /// Removes `keys` (files of the scope's tenant queued for removal, migration 50) and takes each the store removed off
    /// the queue; one the store cannot remove now stays queued for the worker. Returns how many are left.
    @discardableResult
    static func remove(_ keys: [ExportObjectKey], of scope: TenantScope, jobs: ExportJobStore, store: any ExportObjectStore,
                       logger: Logger) async throws -> Int {
        var removed: [ExportObjectKey] = []
        var failed = 0
        for key in keys {
            do {
                try await store.remove(key, logger: logger)
                removed.append(key)
            } catch {
                failed += 1
                logger.warning("An export file queued for removal could not be removed; it stays queued",
                               metadata: ["tenant.id": "\(scope.tenant)", "error.type": "\(type(of: error))"])
            }
        }
        try await jobs.removed(removed, in: scope, logger: logger)
        return failed
    }

    /// Runs one claimed attempt to its end: done, failed for good, or given back to be retried.
    func run(_ claim: ExportJobStore.Claim) async {
        let job = claim.job
        var jobLogger = self.logger
        jobLogger[metadataKey: "export.job"] = "\(job.id)"
        jobLogger[metadataKey: "tenant.id"] = "\(job.tenant)"
        jobLogger[metadataKey: "export.attempt"] = "\(claim.attempt)"
        let logger = jobLogger
        let scope = ScopePolicy.exportJob(of: job.tenant, requestedBy: job.requestedBy, role: claim.role, attributes: claim.attributes)
        let maintenance = ScopePolicy.maintenance(of: job.tenant, job: "export")
        removePartials(of: job.id)
        let partial = partialDirectory.appendingPathComponent(
            "\(job.id.uuidString.lowercased()).attempt-\(claim.attempt).\(job.format.fileExtension(compressed: job.compressed))")
        defer { try? FileManager.default.removeItem(at: partial) }
        logger.info("Export started")
        let started = ContinuousClock.now
        do {
            let writer = try ExportFileWriter(url: partial, format: job.format, compressed: job.compressed)
            let progress = ExportProgress()
            try await withThrowingTaskGroup(of: Void.self) { group in
                // The heartbeat keeps the lease and publishes progress; losing the job (revoked, taken over)
                // ends the attempt.
                group.addTask {
                    while true {
                        try await Task.sleep(for: settings.lease / 3)
                        guard try await jobs.heartbeat(claim, worker: name, rows: progress.rows, lease: settings.lease, in: maintenance,
                                                       logger: logger)
                        else { throw ExportAttemptLost() }
                    }
                }
                group.addTask {
                    try await reader.read(job.source, in: scope, rowLimit: settings.rowLimit, timeLimit: settings.timeLimit, logger: logger) { record in
                        try writer.write(record)
                        progress.rows = writer.rows
                    }
                }
                try await group.next()
                group.cancelAll()
            }
            let size = try writer.finish()
            try await store.store(file: partial, as: job.objectKey, contentType: job.format.storedContentType(compressed: job.compressed),
                                  logger: logger)
            guard try await jobs.finish(claim, worker: name, rows: writer.rows, sizeBytes: size, retention: settings.retention,
                                        in: maintenance, logger: logger)
            else {
                // Revoked or taken over meanwhile: the object must not outlive the decision.
                try await store.remove(job.objectKey, logger: logger)
                logger.notice("Export finished after it was revoked or taken over; its file was removed")
                return
            }
            logger.info("Export done", metadata: ["export.rows": "\(writer.rows)", "export.bytes": "\(size)",
                                                  "export.seconds": "\((ContinuousClock.now - started).components.seconds)"])
            try await audit.append(.init(actor: "system:export", actorKind: "system", scopeTenant: job.tenant, action: "export_completed",
                                         report: Self.reportName(job.source),
                                         parameters: ["job": job.id.uuidString.lowercased(), "requested_by": job.requestedBy,
                                                      "attempt": "\(claim.attempt)", "bytes": "\(size)"],
                                         rowCount: writer.rows, outcome: "ok"), logger: logger)
        } catch is ExportAttemptLost {
            logger.notice("Export attempt stopped: the job was revoked or taken over")
        } catch {
            await settle(claim, after: error, scope: maintenance, logger: logger)
        }
    }

    /// Decides what a failed attempt means: a limit or a request that is no longer valid fails the job
    /// for good (with a reason the tenant can read); anything else (the database or store unavailable,
    /// the server stopping) gives it back to be tried again from the start.
    private func settle(_ claim: ExportJobStore.Claim, after error: any Error, scope: TenantScope, logger: Logger) async {
        let permanent: String? = switch error {
        case let error as ExportReader.RowLimitExceeded: error.description
        case let error as ExportReader.CustomReportChanged: error.description
        case let error as SQLExecutionError where error.sqlState == "57014": "the export took longer than its time limit of \(settings.timeLimit)"
        case let error as SQLExecutionError: "the custom report failed: \(error.message)"
        case let refusal as SQLRefusal: "the custom report is refused by the SQL guard: \(refusal.description)"
        case let error as TenantScopeError where error.kind != .environment: error.message
        case let error as S3ResponseError: "the export store refused the file (\(error.code)); an operator must fix the store's configuration"
        default: Self.isStatementTimeout(error) ? "the export took longer than its time limit of \(settings.timeLimit)" : nil
        }
        do {
            if let permanent {
                logger.notice("Export failed", metadata: ["export.reason": "\(permanent)"])
                try await jobs.fail(claim, worker: name, reason: permanent, in: scope, logger: logger)
                try await audit.append(.init(actor: "system:export", actorKind: "system", scopeTenant: claim.job.tenant, action: "export_failed",
                                             report: Self.reportName(claim.job.source),
                                             parameters: ["job": claim.job.id.uuidString.lowercased(), "requested_by": claim.job.requestedBy],
                                             outcome: "failed"), logger: logger)
            } else {
                logger.warning("Export attempt failed; the job goes back to the queue", metadata: ["error": "\(String(reflecting: error))"])
                // Backs off a lease per attempt so far: a store or database outage of a few minutes does not
                // use up the attempts.
                try await jobs.release(claim, worker: name, retryAfter: settings.lease * claim.attempt, in: scope, logger: logger)
            }
        } catch {
            // The lease runs out and the next claim takes the job over: nothing is lost.
            logger.warning("Could not record the export attempt's end; its lease will run out", metadata: ["error": "\(String(reflecting: error))"])
        }
    }

    /// Removes partial files earlier attempts of the job left here (a process that died mid-export).
    func removePartials(of job: UUID) {
        let prefix = job.uuidString.lowercased() + ".attempt-"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: partialDirectory.path) else { return }
        for name in names where name.hasPrefix(prefix) {
            try? FileManager.default.removeItem(at: partialDirectory.appendingPathComponent(name))
            logger.info("Removed the partial file of an earlier attempt", metadata: ["export.job": "\(job)"])
        }
    }

    static func reportName(_ source: ExportSource) -> String {
        if case .report(let name, _) = source { return name }
        if case .customReport(let name, _) = source { return "custom:\(name)" }
        return source.kind
    }

    /// PostgreSQL cancelled the read at the job's time limit (SQLSTATE 57014, which the pool reports as unavailable).
    static func isStatementTimeout(_ error: any Error) -> Bool {
        (error as? DatabaseUnavailable)?.isStatementTimeout ?? false
    }
}

/// The attempt no longer holds its job.
struct ExportAttemptLost: Error {}

/// Rows written so far: the reader sets it, the heartbeat reads it.
final class ExportProgress: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    var rows: Int {
        get { lock.withLock { value } }
        set { lock.withLock { value = newValue } }
    }
}
