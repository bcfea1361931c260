import Foundation
import TenantScopeCore
import TenantScopePostgres

extension CourseEnrollments {
    struct Model: Sendable, Equatable {
        struct Enrollment: Sendable, Equatable {
            /// The learner's name, or their xAPI actor when statements give no name.
            var learner: String
            var actor: String
            var enrolled: String
            var completed: String?
            var daysToComplete: Int?
            var cohort: String
        }

        var course: String
        var filters: DashboardFilters
        var today: String
        var periodStart: String
        var enrollments: [Enrollment]
        /// The learners panel's "Export CSV" form is bound to the session by this token: only on a
        /// server that runs exports.
        var exportFormToken: String? = nil
    }
}

extension CourseEnrollments.Model {
    var completions: Int { enrollments.filter { $0.completed != nil }.count }

    var completionRate: Double? {
        enrollments.isEmpty ? nil : Double(completions) / Double(enrollments.count)
    }

    var medianDaysToComplete: Double? {
        Median.of(enrollments.compactMap { $0.daysToComplete.map { ($0, 1) } })
    }
}

extension CourseEnrollments.Model {
    /// From `course_enrollments` for `course` since the start of the period.
    init(_ result: ReportResult, course: String, filters: DashboardFilters, today: Date) throws {
        self.init(
            course: course, filters: filters, today: ISO8601Timestamp.day(today), periodStart: filters.since(today: today),
            enrollments: try ReportTable(result).rows.map { row in
                let actor = try row.text("actor") ?? ""
                return Enrollment(learner: try row.text("learner") ?? actor, actor: actor, enrolled: try row.text("enrolled_at") ?? "",
                                  completed: try row.text("completed_at"), daysToComplete: try row.integer("days_to_complete"),
                                  cohort: try row.text("cohort") ?? "")
            })
    }
}
