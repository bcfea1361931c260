import Foundation
@testable import TenantScopeServer

/// Fixed models for the page tests: no clock, no database, the same pages on every machine.
enum PageFixtures {
    static let today = "2026-11-24"
    static let filters = DashboardFilters(days: 30)

    /// Thirty days of activity with a weekly rhythm, ending with today's partial figure.
    static let activity: [TenantDashboard.Model.Day] = (0..<30).map { offset in
        let day = date(today).addingTimeInterval(Double(offset - 29) * 86_400)
        let weekday = offset % 7
        let learners = offset == 29 ? 9 : 38 + offset / 2 + (weekday >= 5 ? -21 : weekday * 3)
        return .init(day: dayText(day), learners: learners)
    }

    static let courses: [TenantDashboard.Model.Course] = [
        .init(name: "Data privacy essentials", enrolled: 118, completed: 71, rate: 0.6017),
        .init(name: "Leading hybrid teams", enrolled: 64, completed: 22, rate: 0.3438),
        .init(name: "Onboarding: your first 90 days at Acme", enrolled: 142, completed: 121, rate: 0.8521),
        .init(name: "Safety basics", enrolled: 96, completed: 58, rate: 0.6042),
        .init(name: "Workplace safety and incident reporting fundamentals", enrolled: 41, completed: 9, rate: 0.2195),
    ]

    /// 281 completions: most within two weeks, a long tail to 40 days.
    static let completionTimes: [TenantDashboard.Model.CompletionTime] = (0...40).compactMap { days in
        let count = days < 14 ? 16 - days / 2 : max(0, 9 - days / 5)
        return count > 0 ? .init(days: days, completions: count) : nil
    }

    static let cohorts: [TenantDashboard.Model.Cohort] = [
        .init(name: "2026-07", enrolled: 88, completed: 61, rate: 0.6932, change: nil, rank: 1),
        .init(name: "2026-08", enrolled: 102, completed: 63, rate: 0.6176, change: -0.0756, rank: 2),
        .init(name: "2026-09", enrolled: 97, completed: 55, rate: 0.5670, change: -0.0506, rank: 3),
        .init(name: "2026-10", enrolled: 121, completed: 64, rate: 0.5289, change: -0.0381, rank: 4),
        .init(name: "2026-11", enrolled: 53, completed: 14, rate: 0.2642, change: -0.2647, rank: 5),
    ]

    static let savedViews = SavedViews.Model(
        views: [
            .init(name: "Last week", url: "/dashboards/learning?days=7", shareAction: "/dashboards/learning/views/5f0c1d2e-0000-4000-8000-000000000001/share"),
            .init(name: "Safety, quarter", url: "/dashboards/learning?days=90&course=Safety%20basics",
                  shareAction: "/dashboards/learning/views/5f0c1d2e-0000-4000-8000-000000000002/share"),
        ],
        links: [.init(viewName: "Last week", until: "2026-12-01", revokeAction: "/dashboards/links/9a1b2c3d-0000-4000-8000-000000000003/revoke")],
        isAdmin: true, formToken: "form-token-fixture", filters: filters)

    static func dashboard(presentation: TenantDashboard.Model.Presentation, filters: DashboardFilters = filters) -> TenantDashboard.Model {
        TenantDashboard.Model(
            filters: filters, today: today, periodStart: "2026-10-26", activeLearners: 412, activity: activity, courses: courses,
            completionTimes: completionTimes, cohorts: cohorts, courseChoices: courses.map(\.name), presentation: presentation)
    }

    static let adminDashboard = dashboard(presentation: .init(offersDownloads: true, exportFormToken: "form-token-fixture", offersDrillDown: true,
                                                              savedViews: savedViews))

    static let emptyDashboard = TenantDashboard.Model(
        filters: DashboardFilters(days: 7), today: today, periodStart: "2026-11-18", activeLearners: 0,
        activity: (0..<7).map { .init(day: "2026-11-\(18 + $0)", learners: 0) }, courses: [], completionTimes: [], cohorts: [],
        courseChoices: [], presentation: .init(offersDownloads: true, savedViews: .init(views: [], links: [], isAdmin: false, formToken: "t", filters: DashboardFilters(days: 7))))

    /// One export in each state a page shows differently: running, queued, done (with its link), failed.
    static let exports = DashboardExports.Model(
        exports: [
            .init(id: "0a1b2c3d-0000-4000-8000-000000000004", what: "Enrollments of a course", parameters: ["course: Safety basics", "since: 2026-10-26"],
                  format: "CSV", state: .running, rows: 1_250, sizeBytes: nil, created: "2026-11-24T14:05:09.123Z", requestedBy: "ada@acme.example"),
            .init(id: "0a1b2c3d-0000-4000-8000-000000000003", what: "Cohort comparison", parameters: ["since: 2026-10-26"], format: "CSV",
                  state: .queued, rows: 0, sizeBytes: nil, created: "2026-11-24T14:04:00.000Z", requestedBy: "grace@acme.example"),
            .init(id: "0a1b2c3d-0000-4000-8000-000000000002", what: "Active learners", parameters: ["days: 30"], format: "CSV", state: .done,
                  rows: 30, sizeBytes: 48_213, created: "2026-11-23T09:30:00.000Z", requestedBy: "ada@acme.example",
                  downloadURL: "/exports/download/0a1b2c3d-0000-4000-8000-000000000002.5f0c1d2e-0000-4000-8000-00000000000a.1796083200.c0ffee"),
            .init(id: "0a1b2c3d-0000-4000-8000-000000000001", what: "Statements", parameters: ["since: 2026-11-01T00:00:00.000Z"], format: "NDJSON, gzip",
                  state: .failed, rows: 0, sizeBytes: nil, created: "2026-11-20T08:00:00.000Z", requestedBy: "ops",
                  error: "the export has more rows than the limit of 10,000,000"),
        ],
        seesAllExports: true, filters: filters, retentionDays: 7)

    static let platform = PlatformAnalytics.Model(
        days: 30, today: today, periodStart: "2026-10-26", operatorName: "ops-1", activeLearners: 1_287,
        growth: activity.map { .init(day: $0.day, learners: $0.learners * 3) },
        features: [
            .init(name: "ai_assistant", tenantsUsing: 1, tenantsTotal: 3, share: 0.3333),
            .init(name: "course_builder", tenantsUsing: 2, tenantsTotal: 3, share: 0.6667),
            .init(name: "dashboards", tenantsUsing: 3, tenantsTotal: 3, share: 1),
            .init(name: "scheduled_exports", tenantsUsing: 1, tenantsTotal: 3, share: 0.3333),
        ],
        tenants: [
            .init(slug: "acme", name: "Acme Learning Co.", tier: "enterprise", activeLearners: 612, statements: 48_210, featuresUsed: 7),
            .init(slug: "globex", name: "Globex University", tier: "growth", activeLearners: 455, statements: 30_904, featuresUsed: 5),
            .init(slug: "initech", name: "Initech Training", tier: "starter", activeLearners: 220, statements: 9_870, featuresUsed: 3),
        ])

    static let enrollments = CourseEnrollments.Model(
        course: "Safety basics", filters: DashboardFilters(days: 30, course: "Safety basics"), today: today, periodStart: "2026-10-26",
        enrollments: [
            .init(learner: "Ada Lovelace", actor: "mbox:mailto:ada@acme.example", enrolled: "2026-10-27", completed: "2026-11-02", daysToComplete: 6, cohort: "2026-10"),
            .init(learner: "Grace Hopper", actor: "mbox:mailto:grace@acme.example", enrolled: "2026-10-30", completed: nil, daysToComplete: nil, cohort: "2026-10"),
            .init(learner: "mbox:mailto:k.johnson@acme.example", actor: "mbox:mailto:k.johnson@acme.example", enrolled: "2026-11-03",
                  completed: "2026-11-20", daysToComplete: 17, cohort: "2026-11"),
        ])

    static func date(_ day: String) -> Date {
        ISO8601DateFormatter().date(from: day + "T12:00:00Z")!
    }

    static func dayText(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withFullDate]
        return formatter.string(from: date)
    }
}
