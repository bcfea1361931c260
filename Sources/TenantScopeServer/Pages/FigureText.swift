import Foundation
import TenantScopeCore

/// How headline figures and table cells write numbers: counts with thousands separators, rates with
/// one decimal, a dash where there is nothing to show (no enrollments, no completions yet).
enum FigureText {
    static let none = "–"

    static func count(_ value: Int) -> String {
        ChartValueFormat.count(Double(value))
    }

    static func percent(_ share: Double?) -> String {
        share.map { String(format: "%.1f%%", $0 * 100) } ?? none
    }

    /// A file's size in decimal units: `812 B`, `12.4 kB`, `3.1 MB`; a dash when there is no file yet.
    static func bytes(_ value: Int?) -> String {
        guard let value else { return none }
        guard value >= 1000 else { return "\(value) B" }
        var size = Double(value) / 1000
        for unit in ["kB", "MB", "GB"] {
            if size < 1000 || unit == "GB" { return String(format: "%.1f", size) + " " + unit }
            size /= 1000
        }
        return none
    }

    /// A change in percentage points: `+3.2 pt`.
    static func points(_ change: Double?) -> String {
        change.map { String(format: "%+.1f pt", $0 * 100) } ?? none
    }

    /// A lag to a tenth of a second: `0.4 s`; under a tenth, `under 0.1 s`.
    static func seconds(_ value: Double) -> String {
        let rounded = DataFreshness.rounded(value)
        return rounded < 0.1 ? "under 0.1 s" : String(format: "%.1f s", rounded)
    }

    /// `4 days`, `4.5 days`, `1 day`.
    static func days(_ value: Double?) -> String {
        guard let value else { return none }
        let number = value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        return value == 1 ? "1 day" : "\(number) days"
    }
}
