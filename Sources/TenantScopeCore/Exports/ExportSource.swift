import Foundation

/// What an export job reads, all of it inside the job's tenant scope.
public enum ExportSource: Sendable, Hashable {
    /// A catalog report with its raw parameters (validated when the job is created, parsed again when it runs).
    case report(name: String, parameters: [String: String])
    /// The tenant's raw xAPI statements as stored, optionally by `stored` time: the data-portability answer.
    case statements(since: Date?, until: Date?)
    /// Everything held about one learner (statements, derived facts, documents): a data-subject access request.
    case learner(actorKey: String)
    /// An approved custom report of the tenant, run through the guarded SQL surface's sandbox. `sqlSHA256` pins
    /// the approved text the job was requested for (nil only in a request not yet resolved against the store):
    /// a report edited since fails the job instead of exporting text nobody approved.
    case customReport(name: String, sqlSHA256: String?)

    /// The `source` column's value.
    public var kind: String {
        switch self {
        case .report: "report"
        case .statements: "statements"
        case .learner: "learner"
        case .customReport: "custom_report"
        }
    }

    /// Whether a tenant user in `role` may ask for this export, as ``ExportRequest`` checks it when one is made: raw
    /// statements and a learner's data are an admin's, a catalog report the roles its definition allows, an approved
    /// custom report any role's. Checked again whenever a job is read, linked or revoked, so a subject back in a lesser
    /// role no longer reaches the files it asked for in a greater one.
    public func allows(_ role: TenantUser.Role, catalog: ReportCatalog) -> Bool {
        switch self {
        case .statements, .learner: role == .admin
        case .report(let name, _): catalog[name]?.allows(role) ?? false
        case .customReport: true
        }
    }

    /// Catalog reports whose rows name learners (one row per learner).
    public static let learnerLevelReports: Set<String> = ["course_enrollments"]

    /// Whether the export's rows may name learners: raw statements, one learner's data, a custom report (its SQL may
    /// select learner rows) and the learner-level catalog reports. An erasure revokes such exports, and the platform may
    /// not queue them for a tenant: the platform sees aggregates, never learners.
    public var mayNameLearners: Bool {
        switch self {
        case .report(let name, _): Self.learnerLevelReports.contains(name)
        case .statements, .learner, .customReport: true
        }
    }

    /// The formats this source can be written in: rows of a report fit CSV; statements and learner records are JSON.
    public var formats: [ExportFormat] {
        switch self {
        case .report, .customReport: [.csv, .json, .ndjson]
        case .statements, .learner: [.ndjson, .json]
        }
    }
}
