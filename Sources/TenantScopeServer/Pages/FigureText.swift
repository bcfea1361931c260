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

    /// A change in percentage points: `+3.2 pt`.
    static func points(_ change: Double?) -> String {
        change.map { String(format: "%+.1f pt", $0 * 100) } ?? none
    }

    /// `4 days`, `4.5 days`, `1 day`.
    static func days(_ value: Double?) -> String {
        guard let value else { return none }
        let number = value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        return value == 1 ? "1 day" : "\(number) days"
    }
}
