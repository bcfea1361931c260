import Foundation
import TenantScopeCore

/// The filters of the dashboard pages: a period in days and, optionally, one course. They come from
/// the query string (or a saved view) and go back into every link and form of the page; they never
/// name a tenant, and anything else in the query string is refused.
struct DashboardFilters: Sendable, Hashable {
    /// The period choices, in days.
    static let periods = [7, 30, 90, 180, 365]

    var days = 30
    var course: String?

    init(days: Int = 30, course: String? = nil) {
        self.days = days
        self.course = course
    }

    /// Parses `days` and `course`; an unknown name (a tenant, say) or a bad value is a 400.
    init(query parameters: [(String, String)]) throws(TenantScopeError) {
        for (name, value) in parameters {
            switch name {
            case "days":
                guard let days = Int(value), Self.periods.contains(days) else {
                    throw .invalidInput("days must be one of \(Self.periods.map(String.init).joined(separator: ", "))")
                }
                self.days = days
            case "course":
                // In code points, as saved_views' CHECK (`length`) counts them, not grapheme clusters.
                guard value.unicodeScalars.count <= 500 else { throw .invalidInput("course is longer than 500 characters") }
                course = value.isEmpty ? nil : value
            default:
                throw .invalidInput("unknown filter '\(name)'")
            }
        }
    }

    /// The first day of the period (UTC, `YYYY-MM-DD`): the period ends today and has `days` days.
    func since(today: Date) -> String {
        ISO8601Timestamp.day(today.addingTimeInterval(Double(-(days - 1)) * 86_400))
    }

    /// `path` with these filters as its query string (`/dashboards/learning?days=7&course=…`).
    func url(_ path: String) -> String {
        var url = "\(path)?days=\(days)"
        if let course { url += "&course=" + Self.encode(course) }
        return url
    }

    /// Percent-encodes everything but letters and digits, so a course name cannot end a query value.
    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
    }
}
