import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

/// What the export API, the dashboard and the CLI do with export jobs: create (validated in full first),
/// read with a freshly signed download link, list, revoke, and open a download link. Every create,
/// download and revoke is an audit row naming who acted and the tenant.
public struct ExportService: Sendable {
    let jobs: ExportJobStore
    let schedules: ExportScheduleStore
    let links: ExportLinkSigner
    let store: any ExportObjectStore
    let audit: AuditLog
    let catalog: ReportCatalog
    let customReports: CustomReportStore
    /// The time links are signed and checked at (tests move it).
    let now: @Sendable () -> Date

    public init(database: Database, store: any ExportObjectStore, catalog: ReportCatalog, now: @escaping @Sendable () -> Date = Date.init) {
        self.jobs = database.exportJobs
        self.schedules = database.exportSchedules
        self.links = database.exportLinks
        self.store = store
        self.audit = database.audit
        self.catalog = catalog
        self.customReports = CustomReportStore(database: database)
        self.now = now
    }

    /// Who acts, for the job row and the audit log.
    public struct Actor: Sendable {
        public var requester: ExportJobStore.Requester
        /// Whom the audit row names, and as what.
        public var auditName: String
        public var auditKind: String

        public static func tenantUser(_ user: TenantUser) -> Actor {
            Actor(requester: .init(name: user.subject, kind: "tenant_user", role: user.role, attributes: user.attributes),
                  auditName: user.subject, auditKind: "tenant_user")
        }

        /// A platform admin acting for a tenant exports what the tenant's viewers may, and nothing whose rows name
        /// learners (``ExportService/create(_:by:in:logger:)`` refuses those too): the platform sees aggregates, never
        /// learners. With the admin role it could export every raw statement, one learner's data (and so test whether an
        /// address is a learner there) and the admins-only learner-level reports.
        public static func platformOperator(_ name: String) -> Actor {
            Actor(requester: .init(name: name, kind: "platform_admin", role: .viewer), auditName: name, auditKind: "platform_admin")
        }

        public static func commandOperator(_ name: String) -> Actor {
            Actor(requester: .init(name: name, kind: "operator", role: .admin), auditName: name, auditKind: "operator")
        }

        /// Whether this actor's reads of jobs (status, list) are audited as well as its writes: a platform admin's, who
        /// reads a tenant that is not theirs, and an operator's at the command line, who reads any tenant's.
        var auditsReads: Bool { auditKind == "platform_admin" || auditKind == "operator" }

        /// Which of the tenant's jobs this actor sees: platform admins only those the platform created
        /// for the tenant (the tenant's own jobs, and who asked for them, are the tenant's business); tenant
        /// admins and operators at the command line all of them; other roles their own.
        var visibility: ExportVisibility {
            switch requester.kind {
            case "platform_admin": .requestedKind("platform_admin")
            default: requester.role == .admin ? .all : .requestedBy(requester.name)
            }
        }

        func sees(_ job: ExportJob) -> Bool {
            visibility.admits(job)
        }
    }

    /// Parses and validates a request body in the actor's role, then queues the job.
    public func create(body: some Collection<UInt8>, by actor: Actor, in scope: TenantScope, logger: Logger) async throws -> ExportJob {
        let request: ExportRequest
        do {
            request = try ExportRequest.parse(body, catalog: catalog, role: actor.requester.role, today: ISO8601Timestamp.day(now()))
        } catch {
            // The row says what was asked for and whether it was refused as not allowed or as not valid (probe 38: every
            // refusal read `export_created - invalid`, so attempts at learner data could not be told from typos).
            let asked = ExportRequest.asked(in: body)
            try await record(actor, tenant: scope.tenant, action: "export_created", job: nil, report: asked?.report, source: asked?.source,
                             outcome: Self.refusalOutcome(error), logger: logger)
            throw error
        }
        return try await create(request, by: actor, in: scope, logger: logger)
    }

    /// Validates a report export as a body would be (the report on the tenant surface, the actor's role,
    /// every parameter), then queues it: the dashboard's "Export CSV" forms come here, not through JSON.
    public func create(report name: String, parameters: [String: String], format: ExportFormat, by actor: Actor, in scope: TenantScope,
                       logger: Logger) async throws -> ExportJob {
        do {
            try ExportRequest.validate(report: name, parameters: parameters, catalog: catalog, role: actor.requester.role,
                                       today: ISO8601Timestamp.day(now()))
        } catch {
            try await record(actor, tenant: scope.tenant, action: "export_created", job: nil, report: String(name.prefix(64)), source: "report",
                             outcome: Self.refusalOutcome(error), logger: logger)
            throw error
        }
        return try await create(ExportRequest(source: .report(name: name, parameters: parameters), format: format, compressed: false),
                                by: actor, in: scope, logger: logger)
    }

    public func create(_ request: ExportRequest, by actor: Actor, in scope: TenantScope, logger: Logger) async throws -> ExportJob {
        var request = request
        if case .customReport(let name, _) = request.source, actor.requester.kind == "platform_admin" {
            // Platform operators list a tenant's custom reports but never run them, except by previewing the
            // tenant's dashboard (issue 17): an export would be a run.
            try await record(actor, tenant: scope.tenant, action: "export_created", job: nil, report: "custom:\(name)", outcome: "forbidden",
                             logger: logger)
            throw TenantScopeError.forbidden("platform operators do not run a tenant's custom reports; preview the tenant's dashboard instead")
        }
        if request.source.mayNameLearners, actor.requester.kind == "platform_admin" {
            // Whatever role the request was checked in: the platform sees aggregates, never learners.
            try await record(actor, tenant: scope.tenant, action: "export_created", job: nil, report: ExportWorker.reportName(request.source),
                             source: request.source.kind, outcome: "forbidden", logger: logger)
            throw TenantScopeError.forbidden("platform operators export a tenant's aggregate reports only, nothing that names learners")
        }
        if case .customReport(let name, nil) = request.source {
            // Pinned to the approved text of now: the job exports what was approved when it was asked for.
            guard let report = try await customReports.report(in: scope, named: name, logger: logger), report.state == .approved else {
                try await record(actor, tenant: scope.tenant, action: "export_created", job: nil, report: "custom:\(name)", outcome: "invalid",
                                 logger: logger)
                throw TenantScopeError.notFound("no approved custom report named '\(name)'")
            }
            request.source = .customReport(name: name, sqlSHA256: report.sqlSHA256)
        }
        guard let job = try await jobs.create(request, by: actor.requester, in: scope, logger: logger) else {
            throw TenantScopeError.conflict("the export could not be queued")
        }
        try await record(actor, tenant: scope.tenant, action: "export_created", job: job, report: ExportWorker.reportName(job.source),
                         outcome: "queued", logger: logger)
        logger.info("Export queued", metadata: ["export.job": "\(job.id)", "export.source": "\(job.source.kind)"])
        return job
    }

    /// One job with, when done, a download link signed now for 24 hours (or until the file expires).
    ///
    /// `audited: false` is for a caller that audits what it does with the answer itself (a command that waits for its
    /// own job, or downloads the file, which is audited as the download).
    public func status(_ id: UUID, for actor: Actor, in scope: TenantScope, audited: Bool = true, logger: Logger) async throws -> ExportStatus {
        guard let job = try await jobs.job(id, in: scope, logger: logger), visible(job, to: actor) else {
            if actor.auditsReads && audited {
                try await record(actor, tenant: scope.tenant, action: "export_status_read", job: nil, report: nil, outcome: "not_found",
                                 logger: logger)
            }
            throw TenantScopeError.notFound("no export with that id")
        }
        if actor.auditsReads && audited {
            // A status read mints a fresh download link: the platform's reads of a tenant are on record, as its writes are.
            try await record(actor, tenant: scope.tenant, action: "export_status_read", job: job, report: ExportWorker.reportName(job.source),
                             outcome: "ok", logger: logger)
        }
        return status(of: job)
    }

    public func list(for actor: Actor, in scope: TenantScope, logger: Logger) async throws -> [ExportStatus] {
        let jobs = try await jobs.list(in: scope, visibleAs: actor.visibility, logger: logger).filter { visible($0, to: actor) }
        if actor.auditsReads {
            try await audit.append(.init(actor: actor.auditName, actorKind: actor.auditKind, scopeTenant: scope.tenant, action: "exports_listed",
                                         rowCount: jobs.count, outcome: "ok"), logger: logger)
        }
        return jobs.map(status(of:))
    }

    /// Revokes a job and removes its file; the job stays listed as `revoked`.
    public func revoke(_ id: UUID, by actor: Actor, in scope: TenantScope, logger: Logger) async throws -> ExportStatus {
        guard let current = try await jobs.job(id, in: scope, logger: logger), visible(current, to: actor),
              let job = try await jobs.revoke(id, in: scope, logger: logger)
        else { throw TenantScopeError.notFound("no export with that id") }
        // Queued for removal with the revocation: removed now, or by the export worker should the store fail now.
        try await ExportWorker.remove([job.objectKey], of: scope, jobs: jobs, store: store, logger: logger)
        try await record(actor, tenant: scope.tenant, action: "export_revoked", job: job, report: ExportWorker.reportName(job.source),
                         outcome: "ok", logger: logger)
        return status(of: job)
    }

    /// Opens a download link: the signature, then, at this moment, the job in the tenant the signature
    /// names — it must exist (a deleted tenant's jobs are gone), be done, and not be revoked or expired.
    /// `by` names who opened it in the audit row when it is known (an operator's `export download`); a link is a bearer
    /// capability, so otherwise the row names the link and the job's requester.
    public func download(token: String, by actor: Actor? = nil, logger: Logger) async throws -> (ExportJob, ExportDownload) {
        let claim: ExportLinkSigner.Claim
        do {
            claim = try links.verify(token, now: now())
        } catch .expired {
            throw TenantScopeError.gone("this download link has expired; read the export's status for a fresh link")
        } catch {
            throw TenantScopeError.notFound("no such download")
        }
        let scope = ScopePolicy.exportLink(of: claim.tenant)
        guard let job = try await jobs.job(claim.job, in: scope, logger: logger) else {
            throw TenantScopeError.notFound("no such download")
        }
        switch job.state {
        case .done: break
        case .revoked: throw TenantScopeError.gone("this export was revoked")
        case .expired: throw TenantScopeError.gone("this export's file has expired")
        default: throw TenantScopeError.notFound("this export has no file")
        }
        // A presigned URL lives only as long as the link that led to it, and at most 24 hours.
        let download = try await store.download(job.objectKey, expires: min(claim.expires, now().addingTimeInterval(ExportLinkSigner.lifetime)),
                                                logger: logger)
        try await audit.append(.init(actor: actor?.auditName ?? "export-link", actorKind: actor?.auditKind ?? "system", scopeTenant: job.tenant,
                                     action: "export_downloaded",
                                     report: ExportWorker.reportName(job.source),
                                     parameters: ["job": job.id.uuidString.lowercased(), "requested_by": job.requestedBy],
                                     rowCount: job.rows, outcome: "ok"), logger: logger)
        return (job, download)
    }

    /// The job as the API shows it; a done job carries a link signed now.
    func status(of job: ExportJob) -> ExportStatus {
        var link: (String, Date)?
        if job.state == .done {
            let expires = min(now().addingTimeInterval(ExportLinkSigner.lifetime), job.expiresAt ?? .distantFuture)
            link = ("/exports/download/" + links.token(job: job.id, tenant: job.tenant, expires: expires), expires)
        }
        return ExportStatus(job, link: link)
    }

    /// Whether the actor sees the job: one of the jobs its kind and role see (``Actor/visibility``), whose file the
    /// actor's role may read now. A job belongs to its requester's subject; when the same subject comes back in a lesser
    /// role (a viewer's token), the admins-only files it asked for as an admin (raw statements, a learner's data, a
    /// learner-level report) are no longer its to read, link or revoke (probe 38).
    func visible(_ job: ExportJob, to actor: Actor) -> Bool {
        actor.sees(job) && job.source.allows(actor.requester.role, catalog: catalog)
    }

    /// A refused request's outcome: `forbidden` when the role may not, `invalid` when the request is not valid.
    static func refusalOutcome(_ error: any Error) -> String {
        (error as? TenantScopeError)?.kind == .forbidden ? "forbidden" : "invalid"
    }

    private func record(_ actor: Actor, tenant: TenantID, action: String, job: ExportJob?, report: String?, source: String? = nil,
                        outcome: String, logger: Logger) async throws {
        var parameters: [String: String] = [:]
        if let source { parameters["source"] = source }
        if let job {
            parameters["job"] = job.id.uuidString.lowercased()
            parameters["source"] = job.source.kind
            parameters["format"] = job.format.rawValue
        }
        try await audit.append(.init(actor: actor.auditName, actorKind: actor.auditKind, scopeTenant: tenant, action: action,
                                     report: report, parameters: parameters, outcome: outcome), logger: logger)
    }
}
