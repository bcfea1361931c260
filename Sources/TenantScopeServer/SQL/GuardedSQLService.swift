import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres
import TenantScopeSQLParser

/// The guarded SQL surface behind `POST /api/v1/sql` and the MCP `run_sql` tool: role check, parser guard,
/// sandboxed run, audit row. Handlers only translate to and from their protocol.
///
/// Every call is one audit row (`sql_query`): the principal and tenant, the SQL's SHA-256 and text, the row
/// count, the duration and the outcome (`ok`, `refused`, `error`, `forbidden`). Logs carry the hash and
/// counts only, never the text or a value.
public struct GuardedSQLService: Sendable {
    /// Whether the parser guard runs. `.offForTesting` exists so tests can prove the second layer (sandbox
    /// role, read-only transaction, row-level security) on its own; `serve` has no way to select it.
    public enum GuardMode: Sendable {
        case enforced
        case offForTesting
    }

    let sandbox: SQLSandbox
    let audit: AuditLog
    let mode: GuardMode
    let limits: SQLSandbox.Limits
    let cache: ReportResultCache?
    let watermarks: (any RollupWatermarkSource)?

    /// With a `cache`, a result is reused for the same tenant, row attributes, text and row cap until the
    /// tenant's roll-up watermark moves (decision 33); every call is still an audit row.
    public init(database: Database, mode: GuardMode = .enforced, limits: SQLSandbox.Limits = .init(),
                cache: ReportResultCache? = nil, watermarks: (any RollupWatermarkSource)? = nil) {
        self.sandbox = SQLSandbox(database: database)
        self.audit = database.audit
        self.mode = mode
        self.limits = limits
        self.cache = cache
        self.watermarks = cache == nil ? nil : watermarks ?? RollupWatermarks(database: database)
    }

    /// The least role that may run ad-hoc SQL.
    public static let minimumRole = TenantUser.Role.analyst

    /// Runs `sql` in `scope`. Throws ``TenantScopeError`` (forbidden, too long), ``SQLRefusal`` (the guard),
    /// ``SQLExecutionError`` (PostgreSQL refused it) or ``DatabaseUnavailable``. `surface` names the caller
    /// in the audit row (`api`, `mcp`).
    ///
    /// `report` names what ran in the audit row (`sql`, or `custom:<name>` for a custom report); an approved
    /// custom report runs for any role of its tenant (`requiresAnalyst: false`), still guarded and sandboxed.
    public func run(_ sql: String, in scope: TenantScope, surface: String, report: String = "sql", requiresAnalyst: Bool = true,
                    logger: Logger) async throws -> SQLResult {
        let hash = SQLGuard.sha256(sql)
        var parameters = Self.auditParameters(sql, surface: surface)
        func record(_ outcome: String, rows: Int? = nil) async throws {
            try await audit.append(.init(scope: .tenant(scope), action: "sql_query", report: report, parameters: parameters,
                                         rowCount: rows, outcome: outcome), logger: logger)
        }
        guard !requiresAnalyst || scope.role.includes(Self.minimumRole) else {
            try await record("forbidden")
            throw TenantScopeError.forbidden("ad-hoc SQL needs a tenant token with the analyst or admin role")
        }
        let checked: CheckedSQL
        do {
            checked = try check(sql)
        } catch let refusal as SQLRefusal {
            parameters["refused"] = refusal.node
            try await record("refused")
            logger.info("SQL refused", metadata: ["sql.sha256": "\(hash)", "sql.node": "\(refusal.node)"])
            throw refusal
        }
        var cacheKey: ReportResultCache.Key?
        let askedAt = Date(), runStarted = ContinuousClock.now
        // A query that reads the clock or calls random() can answer differently with the same data: never cached.
        if let cache, let watermarks, !checked.variesBetweenRuns,
           let watermark = await watermarks.watermark(of: scope.tenant, logger: logger) {
            let key = ReportResultCache.Key(tenant: scope.tenant, attributes: scope.attributes, report: "sql:\(report):\(hash)",
                                            parameters: ["row_cap": .integer(limits.rowCap)], day: ISO8601Timestamp.day(askedAt),
                                            watermark: watermark)
            if let result = cache.sqlResult(for: key) {
                parameters["cached"] = "true"
                parameters["truncated"] = "\(result.truncated)"
                try await record("ok", rows: result.rows.count)
                return result
            }
            cacheKey = key
        }
        do {
            let result = try await sandbox.run(checked, in: scope, limits: limits, logger: logger)
            // Only the primary's answer is stored: its snapshot is at or past the key's watermark (read before it). A
            // replica's may be behind it, and the sandbox role cannot read the watermark the way a report's run does
            // (ReportRunner).
            if let cache, let cacheKey, result.freshness.source == .primary,
               cacheKey.isStillItsDay(askedAt: askedAt, runStarted: runStarted) {
                cache.store(result, for: cacheKey)
            }
            parameters["duration_ms"] = "\(result.durationMilliseconds)"
            parameters["truncated"] = "\(result.truncated)"
            try await record("ok", rows: result.rows.count)
            logger.info("SQL ran", metadata: ["sql.sha256": "\(hash)", "sql.rows": "\(result.rows.count)",
                                              "sql.duration_ms": "\(result.durationMilliseconds)"])
            return result
        } catch let error as SQLExecutionError {
            parameters["sqlstate"] = error.sqlState ?? ""
            try await record("error")
            logger.info("SQL failed", metadata: ["sql.sha256": "\(hash)", "sql.sqlstate": "\(error.sqlState ?? "")"])
            throw error
        }
    }

    /// The SQL's hash and text and the surface, for its `sql_query` row. jsonb cannot hold U+0000: the audit copy shows
    /// it as U+FFFD (the hash is of the text as sent).
    static func auditParameters(_ sql: String, surface: String) -> [String: String] {
        let auditText = String(sql.prefix(SQLGuard.maximumLength)).replacingOccurrences(of: "\u{0}", with: "\u{FFFD}")
        return ["sql_sha256": SQLGuard.sha256(sql), "sql": auditText, "via": surface]
    }

    /// Refuses a request in a mode the caller's role does not have (the admin debug mode, a custom report's preview)
    /// before anything runs, and records it as every query is: one `sql_query` row, outcome `forbidden`, naming the
    /// mode (probe 38: these left no row). `sql` is nil when the text is a stored report's, which the caller may not see.
    public func refuse(_ sql: String? = nil, in scope: TenantScope, surface: String, report: String = "sql", mode: String, message: String,
                       logger: Logger) async throws -> Never {
        var parameters = sql.map { Self.auditParameters($0, surface: surface) } ?? ["via": surface]
        parameters["mode"] = mode
        try await audit.append(.init(scope: .tenant(scope), action: "sql_query", report: report, parameters: parameters, outcome: "forbidden"),
                               logger: logger)
        throw TenantScopeError.forbidden(message)
    }

    /// The admin debug mode: PostgreSQL's plan for `sql` exactly as the sandbox would run it in `scope` (not
    /// executed), row-level security filter included. Only for tenant admins; the guard applies as for a run.
    public func explain(_ sql: String, in scope: TenantScope, logger: Logger) async throws -> [String] {
        guard scope.role == .admin else { throw TenantScopeError.forbidden("the debug mode is for tenant admins") }
        return try await sandbox.explain(try check(sql), in: scope, limits: limits, logger: logger)
    }

    /// Streams an approved custom report's rows for an export, checked by the guard first, in `scope`'s sandbox,
    /// at most `rowCap` rows (returns whether more were there). The export job is the audit row.
    public func stream(_ sql: String, in scope: TenantScope, rowCap: Int, timeLimit: Duration, logger: Logger,
                       columns: @escaping @Sendable ([SQLResult.Column]) async throws -> Void,
                       row: @escaping @Sendable ([SQLValue]) async throws -> Void) async throws -> Bool {
        var exportLimits = limits
        exportLimits.rowCap = rowCap
        exportLimits.statementTimeout = timeLimit
        return try await sandbox.stream(try check(sql), in: scope, limits: exportLimits, logger: logger, columns: columns, row: row)
    }

    /// The text PostgreSQL will run for `sql` (throws the guard's refusal).
    public func executedText(_ sql: String) throws -> String {
        SQLSandbox.executedText(try check(sql), rowCap: limits.rowCap, rowBytes: limits.rowBytes)
    }

    /// The guard's verdict (or, with the guard off, the text as given).
    func check(_ sql: String) throws -> CheckedSQL {
        guard sql.utf8.count <= SQLGuard.maximumLength else {
            throw SQLRefusal(reason: "the query is longer than \(SQLGuard.maximumLength) bytes", node: "length", position: nil)
        }
        if mode == .offForTesting { return .unguardedForTesting(sql) }
        let tree = try PostgresSQLParser.parse(sql).get()
        return try SQLGuard.checked(tree, sql: sql)
    }
}

extension GuardedSQLService: CustomReportExecutor {}
