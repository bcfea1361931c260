import Foundation

/// How a chart writes its values: counts as whole numbers with thousands separators, shares as percentages.
public enum ChartValueFormat: Sendable, Hashable {
    case count
    case percent

    public func text(_ value: Double) -> String {
        switch self {
        case .count: Self.count(value)
        case .percent: String(format: "%.0f%%", value * 100)
        }
    }

    /// `1,234` for whole numbers, two decimals otherwise. Independent of the server's locale, so pages
    /// and their snapshots are the same everywhere.
    public static func count(_ value: Double) -> String {
        guard value == value.rounded(), abs(value) < 1e15 else { return String(format: "%.2f", value) }
        let digits = String(Int(abs(value)))
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped += "," }
            grouped.append(digit)
        }
        return (value < 0 ? "-" : "") + grouped
    }
}
