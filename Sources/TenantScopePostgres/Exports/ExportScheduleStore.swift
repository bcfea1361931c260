import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Scheduled exports (`app.export_schedules`), inside the tenant's scope like every tenant table; creating, listing and
/// deleting one is one call of a session function (architecture decision 63).
///
/// A due schedule becomes a job through one `INSERT … ON CONFLICT DO NOTHING` on the job table's unique
/// (tenant, schedule, slot): however many server processes see the slot come, exactly one job is queued.
public struct ExportScheduleStore: Sendable {
    let sessions: ScopedDatabase

    public func create(_ request: ExportRequest, cadence: ExportSchedule.Cadence, hour: Int, weekday: Int?,
                       by requester: ExportJobStore.Requester, in scope: TenantScope, logger: Logger) async throws -> ExportSchedule {
        guard case .report(let name, let parameters) = request.source else {
            throw TenantScopeError.invalidInput("a schedule exports a catalog report")
        }
        let parametersJSON = JSONValue.object(JSONObject(parameters.mapValues(JSONValue.string))).jsonText
        let attributes = JSONValue.object(JSONObject(requester.attributes.mapValues(JSONValue.string))).jsonText
        let rows = try await sessions.writeRows(scope, BoundStatement(sql: """
            INSERT INTO app.export_schedules (report, parameters, format, compressed, cadence, hour, weekday, created_by, created_role,
                                              attributes)
            VALUES (($1::text), ($2::text)::jsonb, ($3::text), ($4::boolean), ($5::text), ($6::int8), ($7::int8), ($8::text), ($9::text),
                    ($10::text)::jsonb)
            RETURNING \(Self.columns)
            """, values: [
                .text(name), .text(parametersJSON), .text(request.format.rawValue), .boolean(request.compressed), .text(cadence.rawValue),
                .integer(hour), .integer(weekday), .text(requester.name), .text(requester.role.rawValue), .text(attributes),
            ]), columnTypes: Self.columnTypes, logger: logger)
        return try Self.decode(rows[0])
    }

    public func list(in scope: TenantScope, logger: Logger) async throws -> [ExportSchedule] {
        try await sessions.readRows(scope, BoundStatement(sql: "SELECT \(Self.columns) FROM app.export_schedules ORDER BY created_at, id",
                                                          values: []),
                                    columnTypes: Self.columnTypes, replicas: false, logger: logger).rows.map(Self.decode)
    }

    /// Removes a schedule (its past jobs stay); false when the tenant has none with that id.
    public func delete(_ id: UUID, in scope: TenantScope, logger: Logger) async throws -> Bool {
        try await sessions.writeRows(scope, BoundStatement(sql: "DELETE FROM app.export_schedules WHERE id = ($1::uuid) RETURNING id",
                                                           values: [.uuid(id)]),
                                     columnTypes: ["uuid"], logger: logger).count == 1
    }

    /// Queues one job for every schedule of the tenant whose latest slot has come and has no job yet.
    /// Returns the jobs this call queued (none when another process queued them first).
    public func enqueueDue(in scope: TenantScope, logger: Logger) async throws -> [ExportJob] {
        try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await connection.query("""
                WITH due AS (
                  SELECT s.*, app.export_schedule_slot(s.cadence, s.hour, s.weekday, now()) AS due_slot
                  FROM app.export_schedules s
                ), queued AS (
                  INSERT INTO app.export_jobs (source, report, parameters, format, compressed, requested_by, requested_kind,
                                               requested_role, attributes, schedule_id, slot)
                  SELECT 'report', d.report, d.parameters, d.format, d.compressed, d.created_by, 'schedule', d.created_role,
                         d.attributes, d.id, d.due_slot
                  FROM due d
                  WHERE d.due_slot >= d.created_at AND (d.last_slot IS NULL OR d.due_slot > d.last_slot)
                  ON CONFLICT (tenant_id, schedule_id, slot) DO NOTHING
                  RETURNING \(unescaped: ExportJobStore.columns())
                ), marked AS (
                  UPDATE app.export_schedules s SET last_slot = d.due_slot
                  FROM due d
                  WHERE s.id = d.id AND d.due_slot >= d.created_at AND (d.last_slot IS NULL OR d.due_slot > d.last_slot)
                )
                SELECT * FROM queued
                """).collect().map(ExportJobStore.decode)
        }
    }

    /// The schedule columns every read returns, in order, each with its type exactly (a write function returns a table's
    /// columns as they are; `asText` columns are `jsonb` read as text). ``columns``, ``columnTypes`` and ``decode(_:)``'s
    /// positions all come from this one list.
    static let columnList: [(name: String, type: String, asText: Bool)] = [
        ("id", "uuid", false), ("report", "text", false), ("parameters", "text", true), ("format", "text", false),
        ("compressed", "boolean", false), ("cadence", "text", false), ("hour", "int4", false), ("weekday", "int4", false),
        ("created_by", "text", false), ("created_at", "timestamptz", false), ("last_slot", "timestamptz", false),
    ]
    static let columns = columnList.map { $0.asText ? "\($0.name)::text AS \($0.name)" : $0.name }.joined(separator: ", ")
    static let columnTypes = columnList.map(\.type)
    static let position = Dictionary(uniqueKeysWithValues: columnList.enumerated().map { ($1.name, $0) })

    /// The schedule in a row of ``columns``, read by position: a session function names its columns `c1`, `c2`, ….
    static func decode(_ row: PostgresRow) throws -> ExportSchedule {
        let cells = row.makeRandomAccess()
        func cell(_ name: String) -> PostgresCell { cells[position[name]!] }
        return ExportSchedule(
            id: try cell("id").decode(UUID.self),
            report: try cell("report").decode(String.self),
            parameters: ExportJobStore.stringMap(try cell("parameters").decode(String.self)),
            format: ExportFormat(rawValue: try cell("format").decode(String.self)) ?? .csv,
            compressed: try cell("compressed").decode(Bool.self),
            cadence: ExportSchedule.Cadence(rawValue: try cell("cadence").decode(String.self)) ?? .daily,
            hour: try cell("hour").decode(Int.self),
            weekday: try cell("weekday").decode(Int?.self),
            createdBy: try cell("created_by").decode(String.self),
            createdAt: try cell("created_at").decode(Date.self),
            lastSlot: try cell("last_slot").decode(Date?.self))
    }
}
