import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Export jobs (`app.export_jobs`), always in one tenant's scope: a job id from another tenant finds nothing, whoever asks
/// (architecture decision 44). The API's operations are one statement each, run as one call of its session function
/// (decision 63); the worker's side stays in scoped transactions (its claim takes a lock first).
///
/// The worker's side (claim, heartbeat, finish) checks the attempt and the lease owner in every update,
/// so an attempt that lost its lease (its process paused past the lease, and another took the job over)
/// can no longer change the job, and its object is thrown away.
public struct ExportJobStore: Sendable {
    let sessions: ScopedDatabase
    /// The server login's pool of every cluster: the worker finds work on each.
    let clusterPools: ClusterPools

    /// Who asked: recorded on the job and in its audit rows.
    public struct Requester: Sendable, Hashable {
        public var name: String
        /// `tenant_user`, `platform_admin`, `schedule` or `operator`.
        public var kind: String
        public var role: TenantUser.Role
        public var attributes: [String: String]

        public init(name: String, kind: String, role: TenantUser.Role, attributes: [String: String] = [:]) {
            self.name = name
            self.kind = kind
            self.role = role
            self.attributes = attributes
        }
    }

    /// The job columns every read returns, in order, each with its type exactly (a write function returns a table's
    /// columns as they are; `asText` columns are `jsonb` read as text). ``columns(_:)``, ``columnTypes`` and
    /// ``decode(_:)``'s positions all come from this one list.
    static let columnList: [(name: String, type: String, asText: Bool)] = [
        ("id", "uuid", false), ("tenant_id", "uuid", false), ("source", "text", false), ("report", "text", false),
        ("parameters", "text", true), ("subject_actor_key", "text", false), ("format", "text", false), ("compressed", "boolean", false),
        ("state", "text", false), ("requested_by", "text", false), ("requested_kind", "text", false), ("requested_role", "text", false),
        ("attributes", "text", true), ("schedule_id", "uuid", false), ("attempts", "int4", false), ("rows_written", "int8", false),
        ("size_bytes", "int8", false), ("error", "text", false), ("created_at", "timestamptz", false), ("started_at", "timestamptz", false),
        ("finished_at", "timestamptz", false), ("expires_at", "timestamptz", false),
    ]
    static let columnTypes = columnList.map(\.type)
    /// Where each of ``columnList``'s columns is in a row: a session function names its columns `c1`, `c2`, …, so rows are
    /// read by position.
    static let position = Dictionary(uniqueKeysWithValues: columnList.enumerated().map { ($1.name, $0) })

    /// ``columnList`` as a select list, qualified by `alias` where a query joins other relations.
    static func columns(_ alias: String? = nil) -> String {
        let p = alias.map { "\($0)." } ?? ""
        return columnList.map { $0.asText ? "\(p)\($0.name)::text AS \($0.name)" : "\(p)\($0.name)" }.joined(separator: ", ")
    }

    // MARK: - The API's side

    /// Queues a job in `scope`'s tenant.
    public func create(_ request: ExportRequest, by requester: Requester, in scope: TenantScope,
                       schedule: (id: UUID, slot: Date)? = nil, logger: Logger) async throws -> ExportJob? {
        let (report, parameters, actorKey) = Self.sourceColumns(of: request.source)
        let attributes = JSONValue.object(JSONObject(requester.attributes.mapValues(JSONValue.string))).jsonText
        return try await sessions.writeRows(scope, BoundStatement(sql: """
            INSERT INTO app.export_jobs (source, report, parameters, subject_actor_key, format, compressed, requested_by,
                                         requested_kind, requested_role, attributes, schedule_id, slot)
            VALUES (($1::text), ($2::text), ($3::text)::jsonb, ($4::text), ($5::text), ($6::boolean), ($7::text), ($8::text), ($9::text),
                    ($10::text)::jsonb, ($11::uuid), ($12::timestamptz))
            ON CONFLICT (tenant_id, schedule_id, slot) DO NOTHING
            RETURNING \(Self.columns())
            """, values: [
                .text(request.source.kind), .text(report), .text(parameters), .text(actorKey), .text(request.format.rawValue),
                .boolean(request.compressed), .text(requester.name), .text(requester.kind), .text(requester.role.rawValue), .text(attributes),
                .uuidOrNull(schedule?.id), .timestamp(schedule?.slot),
            ]), columnTypes: Self.columnTypes, logger: logger).first.map(Self.decode)
    }

    /// The tenant's jobs that `visibility` admits, newest first: filtered before the limit.
    public func list(in scope: TenantScope, visibleAs visibility: ExportVisibility = .all, limit: Int = 100,
                     logger: Logger) async throws -> [ExportJob] {
        let (requestedBy, requestedKind): (String?, String?) = switch visibility {
        case .all: (nil, nil)
        case .requestedBy(let name): (name, nil)
        case .requestedKind(let kind): (nil, kind)
        }
        return try await sessions.readRows(scope, BoundStatement(sql: """
            SELECT \(Self.columns()) FROM app.export_jobs
            WHERE (($1::text) IS NULL OR requested_by = ($1::text)) AND (($2::text) IS NULL OR requested_kind = ($2::text))
            ORDER BY created_at DESC, id LIMIT ($3::int8)
            """, values: [.text(requestedBy), .text(requestedKind), .integer(limit)]), columnTypes: Self.columnTypes, replicas: false,
            logger: logger).rows.map(Self.decode)
    }

    /// One job of the tenant; nil when the tenant has none with that id.
    public func job(_ id: UUID, in scope: TenantScope, logger: Logger) async throws -> ExportJob? {
        try await sessions.readRows(scope, BoundStatement(sql: "SELECT \(Self.columns()) FROM app.export_jobs WHERE id = ($1::uuid)",
                                                          values: [.uuid(id)]),
                                    columnTypes: Self.columnTypes, replicas: false, logger: logger).rows.first.map(Self.decode)
    }

    /// Revokes a job: a queued or running one will not finish, a done one's object is to be removed: it is queued for
    /// removal in the same statement (migration 50), for the caller to remove with the returned job's key. Nil when the
    /// tenant has no such job.
    public func revoke(_ id: UUID, in scope: TenantScope, logger: Logger) async throws -> ExportJob? {
        // The file's extension as ExportFormat.fileExtension(compressed:) spells it.
        try await sessions.writeRows(scope, BoundStatement(sql: """
            WITH revoked AS (
              UPDATE app.export_jobs SET state = CASE WHEN state IN ('failed', 'expired') THEN state ELSE 'revoked' END,
                     lease_owner = NULL, lease_until = NULL, finished_at = coalesce(finished_at, now())
              WHERE id = ($1::uuid)
              RETURNING *
            ), queued AS (
              INSERT INTO app.export_removals (job_id, file_extension)
              SELECT r.id, r.format || CASE WHEN r.compressed THEN '.gz' ELSE '' END FROM revoked r WHERE r.state = 'revoked'
              ON CONFLICT (tenant_id, job_id) DO NOTHING
            )
            SELECT \(Self.columns()) FROM revoked
            """, values: [.uuid(id)]), columnTypes: Self.columnTypes, logger: logger).first.map(Self.decode)
    }

    // MARK: - The worker's side

    /// Which tenants have export work: jobs to run (queued, or running with a lease that ran out), finished
    /// objects past their expiry, schedules whose slot has come, and files queued for removal. Tenant ids and counts only.
    public func pendingWork(logger: Logger) async throws
        -> [(tenant: TenantID, runnable: Int, expiring: Int, dueSchedules: Int, removals: Int)] {
        try await clusterPools.collect("export work", logger: logger) { pool in
            try await pool.query("SELECT tenant_id, runnable, expiring, due_schedules, removals FROM app.pending_export_work()", logger: logger)
                .map { row in
                    let (tenant, runnable, expiring, due, removals) = try row.decode((UUID, Int, Int, Int, Int).self)
                    return (TenantID(tenant), runnable, expiring, due, removals)
                }
        }
    }

    /// An attempt the worker now holds.
    public struct Claim: Sendable {
        public var job: ExportJob
        /// This attempt's number (1 for the first): every later update names it.
        public var attempt: Int
        /// The requester's role and row attributes, for the job's scope.
        public var role: TenantUser.Role
        public var attributes: [String: String]
    }

    /// Claims the oldest runnable job of the tenant for `worker`, unless the tenant already has
    /// `perTenantLimit` jobs running under a live lease. A job whose attempts are used up is marked failed
    /// instead. Runs in `scope` (the tenant's maintenance scope): `FOR UPDATE SKIP LOCKED` lets several
    /// workers claim side by side without waiting on, or taking, each other's jobs.
    public func claim(in scope: TenantScope, worker: String, lease: Duration, maximumAttempts: Int, perTenantLimit: Int,
                      logger: Logger) async throws -> Claim? {
        let leaseSeconds = lease.inSeconds
        return try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            // One claim at a time per tenant, across processes, so the running count below cannot race; expiry and
            // learner erasures, which change many of the tenant's jobs in one statement as the first one below does,
            // take the same lock, so no two of them lock jobs in different orders.
            try await connection.execute("SELECT app.lock_export_claims()")
            // Jobs whose attempts are used up (each died, or each found the database or store unavailable)
            // fail for good instead of being tried again.
            try await connection.execute("""
                UPDATE app.export_jobs SET state = 'failed', lease_owner = NULL, lease_until = NULL, finished_at = now(),
                       error = 'stopped after ' || attempts || ' attempts; the last one did not finish'
                WHERE state IN ('running', 'queued') AND lease_until < now() AND attempts >= \(maximumAttempts)
                """)
            let rows = try await connection.query("""
                WITH running AS (
                  SELECT count(*) AS n FROM app.export_jobs WHERE state = 'running' AND lease_until >= now()
                ), next AS (
                  SELECT id FROM app.export_jobs
                  WHERE (state = 'queued' AND (lease_until IS NULL OR lease_until < now())) OR (state = 'running' AND lease_until < now())
                  ORDER BY created_at, id
                  LIMIT 1 FOR UPDATE SKIP LOCKED
                )
                UPDATE app.export_jobs j
                SET state = 'running', attempts = j.attempts + 1, lease_owner = \(worker),
                    lease_until = now() + make_interval(secs => \(leaseSeconds)), started_at = now(), rows_written = 0,
                    size_bytes = NULL, error = NULL
                FROM next, running
                WHERE j.id = next.id AND running.n < \(perTenantLimit)
                RETURNING \(unescaped: Self.columns("j"))
                """).collect()
            guard let row = rows.first else { return nil }
            let job = try Self.decode(row)
            let cells = row.makeRandomAccess()
            let role = TenantUser.Role(rawValue: try cells[Self.position["requested_role"]!].decode(String.self)) ?? .viewer
            let attributes = Self.stringMap(try cells[Self.position["attributes"]!].decode(String.self))
            return Claim(job: job, attempt: job.attempts, role: role, attributes: attributes)
        }
    }

    /// Extends the attempt's lease and records its progress; false when the attempt no longer holds the
    /// job (revoked, or taken over after its lease ran out), in which case the worker stops.
    public func heartbeat(_ claim: Claim, worker: String, rows: Int, lease: Duration, in scope: TenantScope, logger: Logger) async throws -> Bool {
        let leaseSeconds = lease.inSeconds
        return try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await connection.query("""
                UPDATE app.export_jobs SET rows_written = \(rows), lease_until = now() + make_interval(secs => \(leaseSeconds))
                WHERE id = \(claim.job.id) AND state = 'running' AND attempts = \(claim.attempt) AND lease_owner = \(worker)
                RETURNING id
                """).collect().count == 1
        }
    }

    /// Marks the attempt done with its figures; false when it no longer held the job (its object must go).
    public func finish(_ claim: Claim, worker: String, rows: Int, sizeBytes: Int, retention: Duration, in scope: TenantScope,
                       logger: Logger) async throws -> Bool {
        let retentionSeconds = Double(retention.components.seconds)
        return try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await connection.query("""
                UPDATE app.export_jobs SET state = 'done', rows_written = \(rows), size_bytes = \(sizeBytes), finished_at = now(),
                       expires_at = now() + make_interval(secs => \(retentionSeconds)), lease_owner = NULL, lease_until = NULL
                WHERE id = \(claim.job.id) AND state = 'running' AND attempts = \(claim.attempt) AND lease_owner = \(worker)
                RETURNING id
                """).collect().count == 1
        }
    }

    /// Marks the attempt failed for good with a reason the tenant may read (a limit, a refused parameter).
    public func fail(_ claim: Claim, worker: String, reason: String, in scope: TenantScope, logger: Logger) async throws {
        // A claim that is no longer this worker's attempt (the lease was taken over) updates nothing, on purpose.
        _ = try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await connection.query("""
                UPDATE app.export_jobs SET state = 'failed', error = \(String(reason.prefix(1000))), finished_at = now(),
                       lease_owner = NULL, lease_until = NULL
                WHERE id = \(claim.job.id) AND state = 'running' AND attempts = \(claim.attempt) AND lease_owner = \(worker)
                """)
        }
    }

    /// Gives the attempt back (the server is stopping, or the database or store was unavailable): the job
    /// is queued again, not before `retryAfter` (a queued job's `lease_until` is the earliest it may be
    /// claimed), and the next attempt starts from the beginning.
    public func release(_ claim: Claim, worker: String, retryAfter: Duration = .zero, in scope: TenantScope, logger: Logger) async throws {
        let delay = Double(retryAfter.components.seconds)
        _ = try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await connection.query("""
                UPDATE app.export_jobs SET state = 'queued', lease_owner = NULL, lease_until = now() + make_interval(secs => \(delay)),
                       rows_written = 0
                WHERE id = \(claim.job.id) AND state = 'running' AND attempts = \(claim.attempt) AND lease_owner = \(worker)
                """)
        }
    }

    /// Marks the tenant's finished jobs whose retention ended as expired, and queues their files for removal in the same
    /// transaction (``pendingRemovals(in:logger:)``); returns them.
    public func expireDue(in scope: TenantScope, logger: Logger) async throws -> [ExportJob] {
        try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            // Takes turns with claims and erasures, which change many jobs in one statement too (see LearnerErasure).
            try await connection.execute("SELECT app.lock_export_claims()")
            let expired = try await connection.query("""
                UPDATE app.export_jobs SET state = 'expired' WHERE state = 'done' AND expires_at < now()
                RETURNING \(unescaped: Self.columns())
                """).collect().map(Self.decode)
            try await Self.queueRemovals(of: expired.map(\.objectKey), on: connection)
            return expired
        }
    }

    // MARK: - Files to remove (migration 50)

    /// Queues `keys` (files of the scope's tenant) for removal, in the caller's transaction: they stay queued until
    /// someone removes them and says so (``removed(_:in:logger:)``), so a store that fails after the commit costs a
    /// retry, never a file left behind.
    static func queueRemovals(of keys: [ExportObjectKey], on connection: ScopedConnection) async throws {
        guard !keys.isEmpty else { return }
        try await connection.execute("""
            INSERT INTO app.export_removals (job_id, file_extension)
            SELECT * FROM unnest(\(keys.map(\.job))::uuid[], \(keys.map(\.fileExtension))::text[])
            ON CONFLICT (tenant_id, job_id) DO NOTHING
            """)
    }

    /// The tenant's files queued for removal at least `age` ago, oldest first (at most `limit`).
    public func pendingRemovals(in scope: TenantScope, queuedBefore age: Duration = .zero, limit: Int = 500,
                                logger: Logger) async throws -> [ExportObjectKey] {
        let seconds = age.inSeconds
        return try await sessions.run(scope, logger: logger) { connection in
            try await connection.query("""
                SELECT job_id, file_extension FROM app.export_removals WHERE queued_at <= now() - make_interval(secs => \(seconds))
                ORDER BY queued_at, job_id LIMIT \(limit)
                """).collect().map { row in
                    let (job, fileExtension) = try row.decode((UUID, String).self)
                    return ExportObjectKey(tenant: scope.tenant, job: job, fileExtension: fileExtension)
                }
        }
    }

    /// Takes files the store has removed off the tenant's queue.
    public func removed(_ keys: [ExportObjectKey], in scope: TenantScope, logger: Logger) async throws {
        guard !keys.isEmpty else { return }
        _ = try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await connection.query("DELETE FROM app.export_removals WHERE job_id = ANY(\(keys.map(\.job))::uuid[])")
        }
    }

    // MARK: - Rows

    static func sourceColumns(of source: ExportSource) -> (report: String?, parameters: String, actorKey: String?) {
        switch source {
        case .report(let name, let parameters):
            return (name, JSONValue.object(JSONObject(parameters.mapValues(JSONValue.string))).jsonText, nil)
        case .statements(let since, let until):
            var range: JSONObject = [:]
            if let since { range["since"] = .string(ISO8601Timestamp.formatMicroseconds(since)) }
            if let until { range["until"] = .string(ISO8601Timestamp.formatMicroseconds(until)) }
            return (nil, JSONValue.object(range).jsonText, nil)
        case .learner(let actorKey):
            return (nil, "{}", actorKey)
        case .customReport(let name, let hash):
            return (name, JSONValue.object(hash.map { ["sql_sha256": .string($0)] } ?? [:]).jsonText, nil)
        }
    }

    static func stringMap(_ json: String) -> [String: String] {
        guard let object = (try? JSONParser.parse(Array(json.utf8)))?.objectValue else { return [:] }
        return Dictionary(object.compactMap { member in member.value.stringValue.map { (member.key, $0) } }, uniquingKeysWith: { $1 })
    }

    /// The job in a row of ``columns(_:)``, read by position (``position``).
    static func decode(_ row: PostgresRow) throws -> ExportJob {
        let cells = row.makeRandomAccess()
        func cell(_ name: String) -> PostgresCell { cells[position[name]!] }
        let parameters = stringMap(try cell("parameters").decode(String.self))
        let source: ExportSource = switch try cell("source").decode(String.self) {
        case "report": .report(name: try cell("report").decode(String.self), parameters: parameters)
        case "learner": .learner(actorKey: try cell("subject_actor_key").decode(String?.self) ?? "")
        case "custom_report": .customReport(name: try cell("report").decode(String.self), sqlSHA256: parameters["sql_sha256"])
        default: .statements(since: parameters["since"].flatMap(ISO8601Timestamp.parse), until: parameters["until"].flatMap(ISO8601Timestamp.parse))
        }
        return ExportJob(
            id: try cell("id").decode(UUID.self),
            tenant: TenantID(try cell("tenant_id").decode(UUID.self)),
            source: source,
            format: ExportFormat(rawValue: try cell("format").decode(String.self)) ?? .ndjson,
            compressed: try cell("compressed").decode(Bool.self),
            state: ExportState(rawValue: try cell("state").decode(String.self)) ?? .failed,
            requestedBy: try cell("requested_by").decode(String.self),
            requestedKind: try cell("requested_kind").decode(String.self),
            scheduleID: try cell("schedule_id").decode(UUID?.self),
            attempts: try cell("attempts").decode(Int.self),
            rows: try cell("rows_written").decode(Int.self),
            sizeBytes: try cell("size_bytes").decode(Int?.self),
            error: try cell("error").decode(String?.self),
            createdAt: try cell("created_at").decode(Date.self),
            startedAt: try cell("started_at").decode(Date?.self),
            finishedAt: try cell("finished_at").decode(Date?.self),
            expiresAt: try cell("expires_at").decode(Date?.self))
    }
}
