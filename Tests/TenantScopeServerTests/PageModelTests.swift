import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer

/// The page models read report cells by column name, and compute the headline figures.
@Suite struct PageModelTests {
    static let today = PageFixtures.date("2026-11-24")

    /// A result of `definition` whose rows are given by column name, with the columns in `order`.
    static func result(_ definition: ReportDefinition, parameters: [(String, String)] = [], order: (([ReportDefinition.Field]) -> [ReportDefinition.Field]) = { $0 },
                       rows: [[String: ReportCell]]) throws -> ReportResult {
        var definition = definition
        let fields = order(definition.tenantQuery!.fields)
        definition.tenantQuery!.fields = fields
        let request = try ReportRequest(definition: definition, surface: .tenant, rawParameters: parameters, today: "2026-11-24")
        let scope = TenantScope(tenant: TenantID(UUID()), actor: "test", role: .admin)
        return ReportResult(request: request, scope: .tenant(scope), rows: rows.map { row in fields.map { row[$0.name] ?? .null } })
    }

    static func dashboard(order: @escaping ([ReportDefinition.Field]) -> [ReportDefinition.Field]) throws -> TenantDashboard.Model {
        let completion = try result(StandardReports.completionRateByCourse, order: order, rows: [
            ["course": .text("Safety basics"), "enrolled": .integer(4), "completed": .integer(3), "completion_rate": .number(0.75)],
            ["course": .text("Privacy"), "enrolled": .integer(6), "completed": .integer(1), "completion_rate": .number(0.1667)],
        ])
        return try TenantDashboard.Model(
            activeLearners: try result(StandardReports.activeLearners, order: order, rows: [
                ["day": .text("2026-11-23"), "active_learners": .integer(5), "window_active_learners": .integer(8)],
                ["day": .text("2026-11-24"), "active_learners": .integer(2), "window_active_learners": .integer(8)],
            ]),
            completion: completion,
            completionTimes: try result(StandardReports.timeToComplete, parameters: [("bucket_days", "1")], order: order, rows: [
                ["from_days": .integer(1), "to_days": .integer(2), "completions": .integer(1)],
                ["from_days": .integer(3), "to_days": .integer(4), "completions": .integer(2)],
                ["from_days": .integer(9), "to_days": .integer(10), "completions": .integer(1)],
            ]),
            cohorts: try result(StandardReports.cohortComparison, order: order, rows: [
                ["cohort": .text("2026-11"), "enrolled": .integer(10), "completed": .integer(4), "completion_rate": .number(0.4),
                 "change_vs_previous": .null, "rank": .integer(1)],
            ]),
            allCourses: completion, filters: DashboardFilters(days: 7), today: today, presentation: .init())
    }

    @Test func theDashboardModelReadsColumnsByNameWhateverTheirOrder() throws {
        let model = try Self.dashboard(order: { $0 })
        #expect(try Self.dashboard(order: { $0.reversed() }) == model)
        #expect(model.activeLearners == 8 && model.activity.map(\.learners) == [5, 2])
        #expect(model.courses.map(\.name) == ["Safety basics", "Privacy"] && model.courseChoices == ["Safety basics", "Privacy"])
        #expect(model.cohorts.first?.change == nil && model.cohorts.first?.rank == 1)
        #expect(model.periodStart == "2026-11-18" && model.today == "2026-11-24")
    }

    @Test func headlineFiguresComeFromTheRows() throws {
        let model = try Self.dashboard(order: { $0 })
        #expect(model.enrollments == 10 && model.completions == 4 && model.completionRate == 0.4)
        // Completions took 1, 3, 3 and 9 days: the median is the mean of the middle two.
        #expect(model.medianDaysToComplete == 3)
        #expect(model.completionBuckets == [.init(from: 0, to: 7, completions: 3), .init(from: 7, to: 14, completions: 1)])
    }

    @Test func aDashboardReadFromAReplicaSaysHowFarBehindItWas() throws {
        let primary = try Self.dashboard(order: { $0 })
        #expect(primary.replicaLagSeconds == nil)
        #expect(!TenantDashboard.View(model: primary).render().contains("replica"))

        func fromReplica(_ result: ReportResult, lag: Double) -> ReportResult {
            ReportResult(request: result.request, scope: result.scope, rows: result.rows, freshness: .replica("replica-1", lagSeconds: lag))
        }
        let completion = try Self.result(StandardReports.completionRateByCourse, rows: [])
        let model = try TenantDashboard.Model(
            activeLearners: fromReplica(try Self.result(StandardReports.activeLearners, rows: []), lag: 0.42),
            completion: fromReplica(completion, lag: 1.3), completionTimes: try Self.result(StandardReports.timeToComplete, rows: []),
            cohorts: try Self.result(StandardReports.cohortComparison, rows: []), allCourses: completion,
            filters: DashboardFilters(days: 7), today: Self.today, presentation: .init())
        #expect(model.replicaLagSeconds == 1.3, "the most a panel's replica was behind")
        #expect(TenantDashboard.View(model: model).render().contains("Read from a replica 1.3 s behind the newest data."))
    }

    /// A platform report's result, as fanned out over the pool and dedicated clusters of which `missing` did not answer.
    static func platformResult(_ definition: ReportDefinition, rows: [[String: ReportCell]], missing: [ClusterName]) throws -> ReportResult {
        let fields = definition.platformQuery!.fields
        let request = try ReportRequest(definition: definition, surface: .platform, rawParameters: [], today: "2026-11-24")
        let scope = try ScopePolicy.scope(for: .platformAdmin(operator: "ops"), on: .platform, purpose: "page model test")
        return ReportResult(request: request, scope: scope, rows: rows.map { row in fields.map { row[$0.name] ?? .null } },
                            clusters: ClusterCoverage(answered: [.pool], missing: missing.map { .init(cluster: $0, reason: "did not answer within 10 s") }))
    }

    @Test func platformFiguresMissingAClusterSaySoOnThePage() throws {
        let eu = try ClusterName("eu-1")
        func model(missing: [ClusterName]) throws -> PlatformAnalytics.Model {
            try PlatformAnalytics.Model(
                growth: try Self.platformResult(StandardReports.activeLearners, rows: [
                    ["day": .text("2026-11-24"), "active_learners": .integer(3), "window_active_learners": .integer(4)],
                ], missing: []),
                adoption: try Self.platformResult(StandardReports.featureAdoption, rows: [], missing: missing),
                tenants: try Self.platformResult(StandardReports.tenantOverview, rows: [], missing: missing),
                operatorName: "ops", days: 30, today: Self.today)
        }
        let complete = try model(missing: [])
        #expect(complete.missingClusters.isEmpty)
        #expect(!PlatformAnalytics.View(model: complete).render().contains("Incomplete"))
        let partial = try model(missing: [eu])
        #expect(partial.missingClusters == ["eu-1"])
        let rendered = PlatformAnalytics.View(model: partial).render()
        #expect(rendered.contains("Incomplete: the cluster eu-1 did not answer in time") && rendered.contains("activity is missing from these figures."))
    }

    @Test func aMissingColumnIsAnErrorNotAZero() throws {
        let renamed = try Self.result(StandardReports.completionRateByCourse, order: { fields in
            fields.map { var field = $0; if field.name == "enrolled" { field.name = "enrolments" }; return field }
        }, rows: [["course": .text("Safety"), "enrolments": .integer(3)]])
        #expect(throws: ReportTable.MissingColumn.self) {
            _ = try TenantDashboard.Model(activeLearners: renamed, completion: renamed, completionTimes: renamed, cohorts: renamed, allCourses: renamed,
                                          filters: DashboardFilters(), today: Self.today, presentation: .init())
        }
    }

    @Test func theMedianOfADistribution() {
        #expect(Median.of([]) == nil)
        #expect(Median.of([(4, 1)]) == 4)
        #expect(Median.of([(1, 1), (2, 1)]) == 1.5)
        #expect(Median.of([(0, 5), (30, 1)]) == 0)
        #expect(Median.of([(10, 2), (2, 2)]) == 6)
    }

    @Test func theDrillDownModelCountsCompletions() throws {
        let result = try Self.result(StandardReports.courseEnrollments, parameters: [("course", "Safety basics")], order: { $0.reversed() }, rows: [
            ["learner": .text("Ada"), "actor": .text("mbox:mailto:ada@x.example"), "enrolled_at": .text("2026-11-02"),
             "completed_at": .text("2026-11-06"), "days_to_complete": .integer(4), "cohort": .text("2026-11")],
            ["learner": .null, "actor": .text("mbox:mailto:bo@x.example"), "enrolled_at": .text("2026-11-03"),
             "completed_at": .null, "days_to_complete": .null, "cohort": .text("2026-11")],
        ])
        let model = try CourseEnrollments.Model(result, course: "Safety basics", filters: DashboardFilters(days: 30, course: "Safety basics"), today: Self.today)
        #expect(model.enrollments.map(\.learner) == ["Ada", "mbox:mailto:bo@x.example"])
        #expect(model.completions == 1 && model.completionRate == 0.5 && model.medianDaysToComplete == 4)
    }

    /// The exports page reads what the export API returns: report titles from the catalog, parameters
    /// by name, a learner export without its learner, and reloads only while a job is still to finish.
    @Test func theExportsModelReadsTheExportStatuses() throws {
        let tenant = TenantID(UUID())
        func job(_ source: ExportSource, _ state: ExportState, format: ExportFormat = .csv, compressed: Bool = false) -> ExportJob {
            ExportJob(id: UUID(), tenant: tenant, source: source, format: format, compressed: compressed, state: state, requestedBy: "ada",
                      requestedKind: "tenant_user", rows: state == .done ? 30 : 0, sizeBytes: state == .done ? 1_200 : nil, createdAt: Self.today)
        }
        let statuses = [
            ExportStatus(job(.report(name: "completion_rate_by_course", parameters: ["since": "2026-11-18", "course": "Safety"]), .done),
                         link: ("/exports/download/x", Self.today)),
            ExportStatus(job(.statements(since: Self.today, until: nil), .failed, format: .ndjson, compressed: true), link: nil),
            ExportStatus(job(.learner(actorKey: "mbox:mailto:ada@x.example"), .expired, format: .ndjson), link: nil),
        ]
        let model = DashboardExports.Model(statuses, catalog: try StandardReports.catalog(), seesAllExports: false, filters: DashboardFilters(),
                                           retentionDays: 7, autoReload: true)
        #expect(model.exports.map(\.what) == ["Completion rate by course", "Statements", "A learner's data (access request)"])
        #expect(model.exports[0].parameters == ["course: Safety", "since: 2026-11-18"] && model.exports[0].downloadURL == "/exports/download/x")
        #expect(model.exports[1].format == "NDJSON, gzip" && model.exports[1].parameters == ["since: \(ISO8601Timestamp.format(Self.today))"])
        #expect(model.exports[2].parameters.isEmpty && !"\(model)".contains("ada@x.example"), "a learner export does not name its learner")
        #expect(!model.isWorking && !model.reloads)
        var working = model
        working.exports[1].state = .running
        #expect(working.isWorking && working.reloads)
        working.autoReload = false
        #expect(working.isWorking && !working.reloads, "the page reloads only when the user asked for it")
        #expect(working.url(autoReload: true) == "/dashboards/exports?days=30&reload=auto")
        #expect(FigureText.bytes(nil) == "–" && FigureText.bytes(812) == "812 B" && FigureText.bytes(48_213) == "48.2 kB"
            && FigureText.bytes(3_100_000) == "3.1 MB")
        #expect(DayText.timestamp("2026-11-24T14:05:09.123Z") == "Nov 24, 2026, 14:05")
    }

    @Test func filtersRefuseAnythingButThePeriodAndACourse() throws {
        #expect(try DashboardFilters(query: [("days", "7"), ("course", "A & B")]) == DashboardFilters(days: 7, course: "A & B"))
        for bad in [[("days", "13")], [("tenant_id", "x")], [("course", String(repeating: "x", count: 501))]] {
            #expect(throws: TenantScopeError.self) { try DashboardFilters(query: bad) }
        }
        #expect(DashboardFilters(days: 7, course: "A & B").url("/dashboards/learning") == "/dashboards/learning?days=7&course=A%20%26%20B")
        #expect(DashboardPanel.timeToComplete.csvURL(DashboardFilters(days: 90)) == "/dashboards/learning/panels/time_to_complete.csv?days=90")
        #expect(DashboardPanel.timeToComplete.exportAction == "/dashboards/learning/panels/time_to_complete/export")
    }
}
