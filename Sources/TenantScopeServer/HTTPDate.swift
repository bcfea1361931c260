import Foundation
import TenantScopeCore

/// RFC 9110 HTTP dates (`Tue, 24 Nov 2026 09:30:00 GMT`) from PostgreSQL's ISO 8601 text.
///
/// Formatted by arithmetic, like ``ISO8601Timestamp``: a `DateFormatter` per response cost more than
/// the rest of a statement GET's formatting.
enum HTTPDate {
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    static func format(_ iso: String) -> String {
        guard let date = ISO8601Timestamp.parse(iso) else { return iso }
        return format(date)
    }

    static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (year, month, day) = ISO8601Timestamp.civilFromDays(days)
        let weekday = weekdays[((days % 7) + 7) % 7]
        func two(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
        let time = "\(two(secondOfDay / 3600)):\(two(secondOfDay / 60 % 60)):\(two(secondOfDay % 60))"
        return "\(weekday), \(two(day)) \(months[month - 1]) \(String(repeating: "0", count: max(0, 4 - String(year).count)))\(year) \(time) GMT"
    }
}
