import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Reads what an export job exports, in the job's tenant scope only, and hands it on record by record as
/// PostgreSQL streams it: reports through the one reporting helper (``ReportRunner/stream``), statements
/// and a learner's records through ``ScopedDatabase``, approved custom reports through the guarded SQL
/// surface (``CustomReportExecutor``). Memory stays flat whatever the size of the export.
public struct ExportReader: Sendable {
    let sessions: ScopedDatabase
    let reports: ReportRunner
    let customReports: CustomReportStore
    let customReportExecutor: (any CustomReportExecutor)?

    public init(database: Database, reports: ReportRunner, customReports: (any CustomReportExecutor)? = nil) {
        self.sessions = database.sessions
        self.reports = reports
        self.customReports = CustomReportStore(database: database)
        self.customReportExecutor = customReports
    }

    /// A custom report export whose report is no longer the approved text it was requested for: the job fails.
    public struct CustomReportChanged: Error, CustomStringConvertible {
        public let name: String
        public var description: String {
            "the custom report '\(name)' was changed or withdrawn since the export was requested; export it again once it is approved"
        }
    }

    /// The export has more rows than its limit allows: the job fails with this, saying how to narrow it.
    public struct RowLimitExceeded: Error, CustomStringConvertible {
        public let limit: Int
        public var description: String { "the export has more than \(limit) rows; narrow it (a shorter time range)" }
    }

    /// Reads `source` in `scope`, calling `sink` for each record; stops with ``RowLimitExceeded`` after
    /// `rowLimit` rows and with PostgreSQL's statement timeout after `timeLimit`.
    public func read(
        _ source: ExportSource, in scope: TenantScope, rowLimit: Int, timeLimit: Duration, now: Date = Date(), logger: Logger,
        sink: @escaping @Sendable (ExportRecord) async throws -> Void
    ) async throws {
        let counter = RowCounter(limit: rowLimit)
        switch source {
        case .report(let name, let parameters):
            try await reports.stream(
                name, in: scope, parameters: parameters.sorted { $0.key < $1.key }, now: now, statementTimeout: timeLimit, logger: logger,
                fields: { fields in try await sink(.columns(fields.map(\.name))) },
                row: { cells in
                    try counter.count()
                    try await sink(.row(cells))
                })
        case .statements(let since, let until):
            // The heaviest read there is: a read replica takes it when one is fit (decision 48). A learner's
            // access export below stays on the primary, so that it holds everything up to the request.
            _ = try await sessions.runPreferringReplica(.tenant(scope), statementTimeout: timeLimit, retry: .beforeBody, logger: logger) { connection in
                // In the order they were stored, which the (tenant_id, stored) index gives without a sort (the
                // benchmark saw `ORDER BY stored, id` spill a sort of ~800 MiB to disk at 1M statements).
                let rows = try await connection.query("""
                    SELECT statement::text FROM app.statements
                    WHERE (\(since)::timestamptz IS NULL OR stored >= \(since)) AND (\(until)::timestamptz IS NULL OR stored < \(until))
                    ORDER BY stored
                    """)
                for try await text in rows.decode(String.self) {
                    try counter.count()
                    try await sink(.json(text))
                }
            }
        case .customReport(let name, let hash):
            guard let executor = customReportExecutor else { throw TenantScopeError.environment("this server does not export custom reports") }
            guard let report = try await customReports.report(in: scope, named: name, logger: logger), report.state == .approved,
                  report.sqlSHA256 == hash
            else { throw CustomReportChanged(name: name) }
            // One row more than the limit, so an export that does not fit fails instead of being cut short.
            let more = try await executor.stream(
                report.sql, in: scope, rowCap: rowLimit, timeLimit: timeLimit, logger: logger,
                columns: { columns in try await sink(.columns(columns.map(\.name))) },
                row: { values in
                    try counter.count()
                    try await sink(.row(values.map(ReportCell.init)))
                })
            if more { throw RowLimitExceeded(limit: rowLimit) }
        case .learner(let actorKey):
            try await sessions.run(scope, statementTimeout: timeLimit, logger: logger) { connection in
                // Everything held about one learner, each line saying what it is: their statements as
                // stored, their learner row and enrollments (derived facts) and the documents stored for them.
                let rows = try await connection.query("""
                    SELECT json_build_object('record', 'statement', 'data', s.statement)::text
                    FROM app.statements s WHERE s.actor_key = \(actorKey)
                    UNION ALL
                    SELECT json_build_object('record', 'learner', 'data', json_build_object(
                             'display_name', l.display_name, 'region', l.region, 'first_seen', l.first_seen, 'last_seen', l.last_seen))::text
                    FROM app.learners l WHERE l.actor_key = \(actorKey)
                    UNION ALL
                    SELECT json_build_object('record', 'enrollment', 'data', json_build_object(
                             'course', c.course_iri, 'course_title', c.title, 'enrolled_at', e.enrolled_at,
                             'completed_at', e.completed_at, 'cohort', e.cohort, 'registration', e.registration))::text
                    FROM app.enrollments e JOIN app.learners l ON l.id = e.learner_id JOIN app.courses c ON c.id = e.course_id
                    WHERE l.actor_key = \(actorKey)
                    UNION ALL
                    SELECT json_build_object('record', 'document', 'data', json_build_object(
                             'kind', d.kind, 'activity_id', d.activity_id, 'registration', d.registration, 'document_id', d.document_id,
                             'content_type', d.content_type, 'updated', d.updated,
                             'content_base64', encode(d.content, 'base64')))::text
                    FROM app.xapi_documents d WHERE d.agent_key = \(actorKey)
                    """)
                for try await text in rows.decode(String.self) {
                    try counter.count()
                    try await sink(.json(text))
                }
            }
        }
    }
}

/// Counts rows against a limit. Used by one reading task at a time.
private final class RowCounter: @unchecked Sendable {
    let limit: Int
    private var rows = 0

    init(limit: Int) { self.limit = limit }

    func count() throws {
        rows += 1
        if rows > limit { throw ExportReader.RowLimitExceeded(limit: limit) }
    }
}

extension ReportCell {
    /// A guarded-SQL value as an export cell; a boolean is written as `true` or `false`.
    init(_ value: SQLValue) {
        switch value {
        case .null: self = .null
        case .bool(let flag): self = .text(flag ? "true" : "false")
        case .integer(let number): self = .integer(number)
        case .number(let number): self = .number(number)
        case .text(let text): self = .text(text)
        }
    }
}
