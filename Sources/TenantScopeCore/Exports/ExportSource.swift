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

    /// The formats this source can be written in: rows of a report fit CSV; statements and learner records are JSON.
    public var formats: [ExportFormat] {
        switch self {
        case .report, .customReport: [.csv, .json, .ndjson]
        case .statements, .learner: [.ndjson, .json]
        }
    }
}
