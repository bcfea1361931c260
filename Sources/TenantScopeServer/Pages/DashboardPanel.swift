import Foundation

/// The reports behind the dashboard's panels and the learner drill-down, and the parameters each
/// runs with for a set of filters. The page, the panel's CSV download and its export job all use
/// these, so a download or an export holds the numbers of the panel it sits on.
enum DashboardPanel: String, CaseIterable, Sendable {
    case activeLearners = "active_learners"
    case completionRate = "completion_rate_by_course"
    case timeToComplete = "time_to_complete"
    case cohortComparison = "cohort_comparison"
    case courseEnrollments = "course_enrollments"

    var report: String { rawValue }

    /// The report's parameters: a window of `days` for activity, enrollments since the start of the
    /// period (and of the course, when one is chosen) for the others.
    func parameters(_ filters: DashboardFilters, today: Date) -> [(String, String)] {
        switch self {
        case .activeLearners:
            return [("days", "\(filters.days)")]
        case .completionRate, .timeToComplete, .cohortComparison, .courseEnrollments:
            var parameters = [("since", filters.since(today: today))]
            if let course = filters.course { parameters.append(("course", course)) }
            return parameters
        }
    }

    /// Where the panel's CSV is downloaded, with the page's filters.
    func csvURL(_ filters: DashboardFilters) -> String {
        filters.url("/dashboards/learning/panels/\(report).csv")
    }

    /// Where the panel's "Export CSV" form posts (the filters travel in the form).
    var exportAction: String {
        "/dashboards/learning/panels/\(report)/export"
    }
}
