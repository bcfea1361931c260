import Foundation

/// What an export job reads, all of it inside the job's tenant scope.
public enum ExportSource: Sendable, Hashable {
    /// A catalog report with its raw parameters (validated when the job is created, parsed again when it runs).
    case report(name: String, parameters: [String: String])
    /// The tenant's raw xAPI statements as stored, optionally by `stored` time: the data-portability answer.
    case statements(since: Date?, until: Date?)
    /// Everything held about one learner (statements, derived facts, documents): a data-subject access request.
    case learner(actorKey: String)

    /// The `source` column's value.
    public var kind: String {
        switch self {
        case .report: "report"
        case .statements: "statements"
        case .learner: "learner"
        }
    }

    /// The formats this source can be written in: rows of a report fit CSV; statements and learner records are JSON.
    public var formats: [ExportFormat] {
        switch self {
        case .report: [.csv, .json, .ndjson]
        case .statements, .learner: [.ndjson, .json]
        }
    }
}
