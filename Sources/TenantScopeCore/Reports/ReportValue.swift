/// A parsed parameter value, bound as a query parameter (never spliced into SQL).
public enum ReportValue: Sendable, Hashable, CustomStringConvertible {
    case integer(Int)
    case text(String)
    case null

    public var description: String {
        switch self {
        case .integer(let value): "\(value)"
        case .text(let value): value
        case .null: ""
        }
    }
}
