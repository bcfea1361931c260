/// A typed, bounded parameter of a report. Values arrive as query-string text and are parsed here;
/// anything unknown, malformed or out of range is refused before any SQL runs.
public struct ReportParameter: Sendable, Hashable {
    public enum Kind: Sendable, Hashable {
        case integer(min: Int, max: Int, default: Int)
        /// A calendar day `YYYY-MM-DD`; the default is today minus `defaultDaysAgo` (nil: no default, optional).
        case date(defaultDaysAgo: Int?)
        case choice([String], default: String)
        /// Free text matched exactly (e.g. a course IRI); optional.
        case text(maxLength: Int)
    }

    public var name: String
    public var kind: Kind
    public var help: String
    /// A required parameter has no default: a request without it is refused (400).
    public var isRequired: Bool

    public init(_ name: String, _ kind: Kind, help: String, required: Bool = false) {
        self.name = name
        self.kind = kind
        self.help = help
        self.isRequired = required
    }
}

extension ReportParameter {
    /// Parses `raw` (nil when absent) into a value, applying the default, or throws a 400-class error.
    func parse(_ raw: String?, today: String) throws(TenantScopeError) -> ReportValue {
        if raw == nil && isRequired { throw .invalidInput("parameter '\(name)' is required") }
        switch kind {
        case .integer(let min, let max, let fallback):
            guard let raw else { return .integer(fallback) }
            guard let value = Int(raw), (min...max).contains(value) else {
                throw .invalidInput("parameter '\(name)' must be an integer from \(min) to \(max)")
            }
            return .integer(value)
        case .date(let daysAgo):
            guard let raw else {
                guard let daysAgo, let date = ISO8601Timestamp.parse(today + "T00:00:00Z") else { return .null }
                return .text(ISO8601Timestamp.day(date.addingTimeInterval(-Double(daysAgo) * 86_400)))
            }
            guard raw.count == 10, ISO8601Timestamp.parse(raw + "T00:00:00Z") != nil else {
                throw .invalidInput("parameter '\(name)' must be a date YYYY-MM-DD in years 1 to 9999")
            }
            return .text(raw)
        case .choice(let options, let fallback):
            guard let raw else { return .text(fallback) }
            guard options.contains(raw) else {
                throw .invalidInput("parameter '\(name)' must be one of: \(options.joined(separator: ", "))")
            }
            return .text(raw)
        case .text(let maxLength):
            guard let raw else { return .null }
            // In code points, as PostgreSQL's `length` and JSON Schema's `maxLength` count, not grapheme clusters.
            guard !raw.isEmpty, raw.unicodeScalars.count <= maxLength else {
                throw .invalidInput("parameter '\(name)' must be 1-\(maxLength) characters")
            }
            return .text(raw)
        }
    }
}
