/// Days as the pages write them, from `YYYY-MM-DD`: `Nov 24` on an axis, `Nov 24, 2026` in text.
/// English month names, whatever the server's locale, so pages and their snapshots are stable.
enum DayText {
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func parts(_ day: String) -> (year: String, month: String, day: String)? {
        let fields = day.split(separator: "-")
        guard fields.count == 3, let month = Int(fields[1]), (1...12).contains(month), let date = Int(fields[2]) else { return nil }
        return (String(fields[0]), months[month - 1], String(date))
    }

    /// `Nov 24`.
    static func short(_ day: String) -> String {
        parts(day).map { "\($0.month) \($0.day)" } ?? day
    }

    /// `Nov 24, 2026`.
    static func medium(_ day: String) -> String {
        parts(day).map { "\($0.month) \($0.day), \($0.year)" } ?? day
    }

    /// `Nov 24, 2026, 14:05` from an ISO 8601 timestamp in UTC (`2026-11-24T14:05:09.123Z`).
    static func timestamp(_ text: String) -> String {
        let parts = text.split(separator: "T", maxSplits: 1)
        guard parts.count == 2, parts[1].count >= 5 else { return text }
        return "\(medium(String(parts[0]))), \(parts[1].prefix(5))"
    }

    /// `Oct 26 – Nov 24, 2026`, or with both years when they differ.
    static func range(_ from: String, _ to: String) -> String {
        guard let start = parts(from), let end = parts(to) else { return "\(from) – \(to)" }
        let first = start.year == end.year ? "\(start.month) \(start.day)" : medium(from)
        return "\(first) – \(medium(to))"
    }
}
