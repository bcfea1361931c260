/// Which of a tenant's export jobs someone may see: every one, those one person asked for, or those one
/// kind of requester created. One rule for a single job and for a list, so a list filters before it is
/// cut to its length (a viewer with older jobs than the tenant's newest hundred still sees theirs).
public enum ExportVisibility: Sendable, Hashable {
    case all
    case requestedBy(String)
    case requestedKind(String)

    public func admits(_ job: ExportJob) -> Bool {
        switch self {
        case .all: true
        case .requestedBy(let name): job.requestedBy == name
        case .requestedKind(let kind): job.requestedKind == kind
        }
    }
}
