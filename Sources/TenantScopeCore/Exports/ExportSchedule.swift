import Foundation

/// A saved schedule: a catalog report exported daily or weekly at an hour (UTC).
public struct ExportSchedule: Sendable, Hashable {
    public enum Cadence: String, Sendable, Hashable, CaseIterable {
        case daily, weekly
    }

    public var id: UUID
    public var report: String
    public var parameters: [String: String]
    public var format: ExportFormat
    public var compressed: Bool
    public var cadence: Cadence
    /// 0–23, UTC.
    public var hour: Int
    /// ISO day of the week (1 = Monday … 7 = Sunday) for weekly schedules.
    public var weekday: Int?
    public var createdBy: String
    public var createdAt: Date
    /// The last slot a job was queued for.
    public var lastSlot: Date?

    public init(id: UUID, report: String, parameters: [String: String], format: ExportFormat, compressed: Bool, cadence: Cadence,
                hour: Int, weekday: Int?, createdBy: String, createdAt: Date, lastSlot: Date?) {
        self.id = id
        self.report = report
        self.parameters = parameters
        self.format = format
        self.compressed = compressed
        self.cadence = cadence
        self.hour = hour
        self.weekday = weekday
        self.createdBy = createdBy
        self.createdAt = createdAt
        self.lastSlot = lastSlot
    }

    /// Parses and validates `{"report": "...", "parameters": {...}, "format": "csv", "gzip": false,
    /// "cadence": "weekly", "hour": 6, "weekday": 1}` (the body of `POST /api/v1/export-schedules`).
    public static func parse(
        _ body: some Collection<UInt8>, catalog: ReportCatalog, role: TenantUser.Role, today: String
    ) throws(TenantScopeError) -> (request: ExportRequest, cadence: Cadence, hour: Int, weekday: Int?) {
        guard body.count <= ExportRequest.maximumBodyBytes else {
            throw .invalidInput("the schedule is larger than \(ExportRequest.maximumBodyBytes) bytes")
        }
        let document = try JSONParser.requestBody(body, named: "the schedule")
        guard var object = document.objectValue else { throw .invalidInput("the schedule must be a JSON object") }
        guard let cadenceText = object.removeValue(forKey: "cadence")?.stringValue, let cadence = Cadence(rawValue: cadenceText) else {
            throw .invalidInput("'cadence' must be 'daily' or 'weekly'")
        }
        guard let hourLiteral = object.removeValue(forKey: "hour"), case .number(let hourText) = hourLiteral, let hour = Int(hourText),
              (0...23).contains(hour) else {
            throw .invalidInput("'hour' must be a whole hour from 0 to 23 (UTC)")
        }
        var weekday: Int?
        if let given = object.removeValue(forKey: "weekday") {
            guard case .number(let text) = given, let day = Int(text), (1...7).contains(day) else {
                throw .invalidInput("'weekday' must be 1 (Monday) to 7 (Sunday)")
            }
            weekday = day
        }
        switch cadence {
        case .weekly where weekday == nil: throw .invalidInput("a weekly schedule needs 'weekday' (1 = Monday … 7 = Sunday)")
        case .daily where weekday != nil: throw .invalidInput("a daily schedule takes no 'weekday'")
        default: break
        }
        guard object["report"] != nil else { throw .invalidInput("a schedule exports a catalog report: give 'report'") }
        let request = try ExportRequest.parse(Array(JSONValue.object(object).jsonText.utf8), catalog: catalog, role: role, today: today)
        return (request, cadence, hour, weekday)
    }
}
