import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Scheduled exports (`app.export_schedules`), inside the tenant's scope like every tenant table.
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
        let parametersJSON = JSONValue.object(parameters.mapValues(JSONValue.string)).jsonText
        let attributes = JSONValue.object(requester.attributes.mapValues(JSONValue.string)).jsonText
        return try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            let rows = try await connection.query("""
                INSERT INTO app.export_schedules (report, parameters, format, compressed, cadence, hour, weekday, created_by,
                                                  created_role, attributes)
                VALUES (\(name), \(parametersJSON)::jsonb, \(request.format.rawValue), \(request.compressed), \(cadence.rawValue), \(hour),
                        \(weekday), \(requester.name), \(requester.role.rawValue), \(attributes)::jsonb)
                RETURNING \(unescaped: Self.columns)
                """).collect()
            return try Self.decode(rows[0])
        }
    }

    public func list(in scope: TenantScope, logger: Logger) async throws -> [ExportSchedule] {
        try await sessions.run(scope, logger: logger) { connection in
            try await connection.query("SELECT \(unescaped: Self.columns) FROM app.export_schedules ORDER BY created_at, id")
                .collect().map(Self.decode)
        }
    }

    /// Removes a schedule (its past jobs stay); false when the tenant has none with that id.
    public func delete(_ id: UUID, in scope: TenantScope, logger: Logger) async throws -> Bool {
        try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await connection.query("DELETE FROM app.export_schedules WHERE id = \(id) RETURNING id").collect().count == 1
        }
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

    static let columns = """
        id, report, parameters::text AS parameters, format, compressed, cadence, hour, weekday, created_by, created_at, last_slot
        """

    static func decode(_ row: PostgresRow) throws -> ExportSchedule {
        let cells = row.makeRandomAccess()
        return ExportSchedule(
            id: try cells["id"].decode(UUID.self),
            report: try cells["report"].decode(String.self),
            parameters: ExportJobStore.stringMap(try cells["parameters"].decode(String.self)),
            format: ExportFormat(rawValue: try cells["format"].decode(String.self)) ?? .csv,
            compressed: try cells["compressed"].decode(Bool.self),
            cadence: ExportSchedule.Cadence(rawValue: try cells["cadence"].decode(String.self)) ?? .daily,
            hour: try cells["hour"].decode(Int.self),
            weekday: try cells["weekday"].decode(Int?.self),
            createdBy: try cells["created_by"].decode(String.self),
            createdAt: try cells["created_at"].decode(Date.self),
            lastSlot: try cells["last_slot"].decode(Date?.self))
    }
}
