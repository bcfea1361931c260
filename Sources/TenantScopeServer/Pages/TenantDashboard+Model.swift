import Foundation
import TenantScopeCore
import TenantScopePostgres

extension TenantDashboard {
    /// What the tenant dashboard shows, as plain values. Built from the panels' report results by
    /// ``init(activeLearners:completion:completionTimes:cohorts:allCourses:filters:today:presentation:)``,
    /// which reads every cell by its column name; tests build it directly.
    struct Model: Sendable, Equatable {
        struct Day: Sendable, Equatable {
            var day: String
            var learners: Int
        }

        struct Course: Sendable, Equatable {
            var name: String
            var enrolled: Int
            var completed: Int
            var rate: Double?
        }

        /// How many completions took `days` whole days from enrollment.
        struct CompletionTime: Sendable, Equatable {
            var days: Int
            var completions: Int
        }

        struct Cohort: Sendable, Equatable {
            var name: String
            var enrolled: Int
            var completed: Int
            var rate: Double?
            var change: Double?
            var rank: Int?
        }

        /// Completions in a bucket of days, `from` included, `to` not.
        struct Bucket: Sendable, Equatable {
            var from: Int
            var to: Int
            var completions: Int
        }

        /// Who sees the page, and so which banner, forms and links it has.
        struct Presentation: Sendable, Equatable {
            var banner: String? = nil
            /// Where the filter form submits to; nil writes the filters as text (a shared view).
            var filterAction: String? = "/dashboards/learning"
            /// Per-panel CSV links: only with a tenant session, which the download route needs.
            var offersDownloads = false
            /// Per-panel "Export CSV" forms and the link to the exports page, bound to the session by this
            /// form token: only with a tenant session on a server that runs exports.
            var exportFormToken: String? = nil
            /// Courses link to their learners: tenant admins only.
            var offersDrillDown = false
            var savedViews: SavedViews.Model? = nil
        }

        var filters: DashboardFilters
        /// The last day of the period, today (UTC, `YYYY-MM-DD`): its figures are partial.
        var today: String
        var periodStart: String
        /// Distinct learners active in the period (any course).
        var activeLearners: Int
        var activity: [Day]
        var courses: [Course]
        var completionTimes: [CompletionTime]
        var cohorts: [Cohort]
        /// The course filter's choices: every course with enrollments in the period.
        var courseChoices: [String]
        var presentation: Presentation
        /// The tenant's approved custom reports pinned to the dashboard, below the four panels.
        var customPanels: [CustomReportPanel] = []
        /// When a read replica answered any panel, the most it was behind the primary; nil when the primary did.
        var replicaLagSeconds: Double? = nil
    }
}

// MARK: - Figures

extension TenantDashboard.Model {
    var enrollments: Int { courses.reduce(0) { $0 + $1.enrolled } }
    var completions: Int { courses.reduce(0) { $0 + $1.completed } }

    var completionRate: Double? {
        enrollments > 0 ? Double(completions) / Double(enrollments) : nil
    }

    var medianDaysToComplete: Double? {
        Median.of(completionTimes.map { ($0.days, $0.completions) })
    }

    static let bucketDays = 7

    /// Completions in 7-day buckets from 0 to the slowest, empty buckets included, so the histogram's
    /// gaps show as gaps.
    var completionBuckets: [Bucket] {
        guard let slowest = completionTimes.map(\.days).max() else { return [] }
        let width = Self.bucketDays
        return (0...(max(0, slowest) / width)).map { index in
            let from = index * width
            let count = completionTimes.filter { $0.days >= from && $0.days < from + width }.reduce(0) { $0 + $1.completions }
            return Bucket(from: from, to: from + width, completions: count)
        }
    }
}

// MARK: - From report results

extension TenantDashboard.Model {
    /// - Parameters:
    ///   - activeLearners: `active_learners` over the period.
    ///   - completion: `completion_rate_by_course` since the period's start (and for the course filter).
    ///   - completionTimes: `time_to_complete` with one-day buckets, so the median is exact to the day.
    ///   - cohorts: `cohort_comparison`.
    ///   - allCourses: `completion_rate_by_course` without the course filter, for the course choices.
    init(activeLearners: ReportResult, completion: ReportResult, completionTimes: ReportResult, cohorts: ReportResult,
         allCourses: ReportResult, filters: DashboardFilters, today: Date, presentation: Presentation) throws {
        let activity = ReportTable(activeLearners).rows
        self.init(
            filters: filters,
            today: ISO8601Timestamp.day(today),
            periodStart: filters.since(today: today),
            activeLearners: try activity.first?.integer("window_active_learners") ?? 0,
            activity: try activity.map { Day(day: try $0.text("day") ?? "", learners: try $0.integer("active_learners") ?? 0) },
            courses: try ReportTable(completion).rows.map { row in
                Course(name: try row.text("course") ?? "", enrolled: try row.integer("enrolled") ?? 0,
                       completed: try row.integer("completed") ?? 0, rate: try row.number("completion_rate"))
            },
            completionTimes: try ReportTable(completionTimes).rows.map { row in
                CompletionTime(days: try row.integer("from_days") ?? 0, completions: try row.integer("completions") ?? 0)
            },
            cohorts: try ReportTable(cohorts).rows.map { row in
                Cohort(name: try row.text("cohort") ?? "", enrolled: try row.integer("enrolled") ?? 0, completed: try row.integer("completed") ?? 0,
                       rate: try row.number("completion_rate"), change: try row.number("change_vs_previous"), rank: try row.integer("rank"))
            },
            courseChoices: try ReportTable(allCourses).rows.compactMap { try $0.text("course") },
            presentation: presentation)
        replicaLagSeconds = ReplicaNote.lag(of: [activeLearners, completion, completionTimes, cohorts, allCourses])
    }
}
