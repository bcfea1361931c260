import Testing
@testable import TenantScopeCore

@Suite struct ReportCatalogTests {
    /// `ExportSource.learnerLevelReports` is kept by hand: the platform may not export a report on it, and an erasure
    /// revokes its exports. A catalog report whose rows name a learner (a `learner` or `actor` column) that is not on
    /// the list fails here, so the list cannot fall behind the catalog.
    @Test func everyReportWhoseRowsNameLearnersIsListedAsLearnerLevel() throws {
        let naming = try StandardReports.catalog().definitions.filter { definition in
            (definition.tenantQuery?.fields ?? []).contains { ["learner", "actor", "learner_id", "actor_key"].contains($0.name) }
        }
        #expect(!naming.isEmpty, "the check found no report naming learners: it would pass whatever the list holds")
        #expect(Set(naming.map(\.name)) == ExportSource.learnerLevelReports, "\(naming.map(\.name))")
    }

    typealias Field = ReportDefinition.Field

    @Test func theStandardCatalogIsValid() throws {
        let catalog = try StandardReports.catalog()
        #expect(catalog.definitions.map(\.name) == [
            "active_learners", "completion_rate_by_course", "time_to_complete", "cohort_comparison", "course_enrollments",
            "feature_adoption", "tenant_overview",
        ])
        #expect(catalog["active_learners"]?.surfaces == [.tenant, .platform])
        #expect(catalog["feature_adoption"]?.surfaces == [.platform])
        #expect(catalog["cohort_comparison"]?.surfaces == [.tenant])
    }

    @Test func aRowMixingPerTenantAndCrossTenantFieldsIsRefused() {
        let mixed = ReportDefinition(
            name: "mixed", title: "Mixed", summary: "",
            platformQuery: .init(sql: "SELECT t.slug, (SELECT count(*) FROM app.daily_feature_usage) FROM app.tenants t", fields: [
                Field("tenant", .text, .perTenant, "Tenant"),
                Field("all_tenants_total", .integer, .crossTenant, "Total over all tenants"),
            ], source: .rollupsOnly)
        )
        #expect(throws: TenantScopeError.self) { try ReportCatalog([mixed]) }
    }

    @Test(arguments: [
        "SELECT count(*) FROM app.statements",
        "SELECT count(*) FROM APP.Learners",
        "SELECT count(*) FROM \"app\".\"enrollments\"",
        "SELECT 1 FROM app.daily_learner_activity a JOIN app.courses c ON true",
        // Roll-ups that name learners (by keyed hash) are for the aggregate functions only.
        "SELECT count(DISTINCT learner_hash) FROM app.daily_learner_activity",
        "SELECT learner_hash FROM app.learner_active_days",
    ])
    func platformSQLReadingRawLearnerTablesIsRefused(_ sql: String) {
        #expect(throws: TenantScopeError.self) { try ReportCatalog([Self.platformCount(sql)]) }
    }

    /// A platform report of one cross-tenant count, read by `sql`.
    static func platformCount(_ sql: String) -> ReportDefinition {
        ReportDefinition(name: "count", title: "Count", summary: "",
                         platformQuery: .init(sql: sql, fields: [Field("n", .integer, .crossTenant, "N")], source: .rollupsOnly))
    }

    /// Platform SQL must name each source as the merge across clusters spells it (PlatformSources): read any other way
    /// (quoted, upper case) or read from another table, it would read the pool's tenants alone and say nothing.
    @Test(arguments: [
        "SELECT sum(learners) FROM APP.DAILY_ACTIVE_LEARNERS",
        "SELECT sum(events) FROM \"app\".daily_feature_usage",
        "SELECT count(*) FROM app.tenant_limit_overrides",
    ])
    func platformSQLReadingASourceTheMergeMissesIsRefused(_ sql: String) throws {
        #expect(throws: TenantScopeError.self) { try ReportCatalog([Self.platformCount(sql)]) }
        // The same count spelled as the merge spells its source is a report.
        _ = try ReportCatalog([Self.platformCount("SELECT sum(learners) FROM app.daily_active_learners")])
    }

    @Test func platformSQLMustBeDeclaredRollupsOnly() throws {
        let fields = [Field("n", .integer, .crossTenant, "N")]
        let sql = "SELECT sum(learners) FROM app.daily_active_learners"
        _ = try ReportCatalog([ReportDefinition(name: "ok", title: "Ok", summary: "", platformQuery: .init(sql: sql, fields: fields, source: .rollupsOnly))])
        for source in [ReportDefinition.Source.rawOnly, .rollups(cold: sql)] {
            let definition = ReportDefinition(name: "p", title: "P", summary: "", platformQuery: .init(sql: sql, fields: fields, source: source))
            #expect(throws: TenantScopeError.self) { try ReportCatalog([definition]) }
        }
    }

    @Test func coldSQLPlaceholdersAreCheckedToo() {
        let definition = ReportDefinition(
            name: "c", title: "C", summary: "", parameters: [StandardReports.days],
            tenantQuery: .init(sql: "SELECT :days::int", fields: [Field("n", .integer, .perTenant, "N")],
                               source: .rollups(cold: "SELECT :weeks::int"))
        )
        #expect(throws: TenantScopeError.self) { try ReportCatalog([definition]) }
    }

    @Test func everyStandardTenantReportHasAColdVariantAndPlatformReportsReadRollupsOnly() throws {
        for definition in StandardReports.all {
            if let tenant = definition.tenantQuery {
                guard case .rollups = tenant.source else { Issue.record("\(definition.name) is not served from roll-ups"); continue }
            }
            if let platform = definition.platformQuery { #expect(platform.source == .rollupsOnly) }
        }
    }

    @Test func tenantSQLMayReadRawTablesButNotClaimCrossTenantOutput() throws {
        let raw = ReportDefinition(name: "raw", title: "Raw", summary: "",
                                   tenantQuery: .init(sql: "SELECT count(*) FROM app.statements", fields: [Field("n", .integer, .perTenant, "N")]))
        _ = try ReportCatalog([raw])
        let claims = ReportDefinition(name: "claims", title: "Claims", summary: "",
                                      tenantQuery: .init(sql: "SELECT 1", fields: [Field("n", .integer, .crossTenant, "N")]))
        #expect(throws: TenantScopeError.self) { try ReportCatalog([claims]) }
    }

    @Test func undeclaredPlaceholdersAndTenantParametersAreRefused() {
        let undeclared = ReportDefinition(name: "u", title: "U", summary: "",
                                          tenantQuery: .init(sql: "SELECT :days::int", fields: [Field("n", .integer, .perTenant, "N")]))
        #expect(throws: TenantScopeError.self) { try ReportCatalog([undeclared]) }
        let tenantParameter = ReportDefinition(
            name: "t", title: "T", summary: "", parameters: [ReportParameter("tenant_id", .text(maxLength: 40), help: "")],
            tenantQuery: .init(sql: "SELECT :tenant_id", fields: [Field("n", .text, .perTenant, "N")])
        )
        #expect(throws: TenantScopeError.self) { try ReportCatalog([tenantParameter]) }
    }

    @Test func theLearnerDrillDownIsForTenantAdminsAndNeedsACourse() throws {
        let drillDown = try #require(try StandardReports.catalog()["course_enrollments"])
        #expect(drillDown.surfaces == [.tenant] && drillDown.minimumRole == .admin)
        #expect(drillDown.allows(.admin) && !drillDown.allows(.viewer))
        #expect(StandardReports.cohortComparison.allows(.viewer))
        #expect(throws: TenantScopeError.self) {
            try ReportRequest(definition: drillDown, surface: .tenant, rawParameters: [], today: "2026-11-24")
        }
        let request = try ReportRequest(definition: drillDown, surface: .tenant, rawParameters: [("course", "Safety")], today: "2026-11-24")
        #expect(request.values["course"] == .text("Safety"))
    }

    @Test func aMinimumRoleIsATenantRole() {
        let platform = ReportDefinition(
            name: "p", title: "P", summary: "",
            platformQuery: .init(sql: "SELECT count(*) FROM app.daily_learner_activity", fields: [Field("n", .integer, .crossTenant, "N")], source: .rollupsOnly),
            minimumRole: .admin)
        #expect(throws: TenantScopeError.self) { try ReportCatalog([platform]) }
    }

    @Test func duplicateNamesAreRefused() {
        #expect(throws: TenantScopeError.self) { try ReportCatalog([StandardReports.activeLearners, StandardReports.activeLearners]) }
    }
}

@Suite struct SQLTextTests {
    @Test func findsPlaceholdersButNotCastsLiteralsOrComments() {
        let sql = "SELECT :a::int, ':not_me', \"col:x\" -- :comment\n FROM t WHERE x = :b AND y = :a"
        #expect(SQLText.placeholders(sql) == ["a", "b", "a"])
        let template = SQLText.template(sql)
        #expect(template.names == ["a", "b"])
        #expect(template.rendered { "$\($0 + 1)" } == "SELECT $1::int, ':not_me', \"col:x\" -- :comment\n FROM t WHERE x = $2 AND y = $1")
    }

    @Test func findsReferencedAppTables() {
        #expect(SQLText.referencedTables("SELECT * FROM app.tenants t JOIN \"app\".\"Statements\" s ON true, myapp.x") == ["tenants", "statements"])
    }
}

@Suite struct ReportRequestTests {
    let today = "2026-11-24"

    @Test func appliesDefaultsAndParsesValues() throws {
        let request = try ReportRequest(definition: StandardReports.timeToComplete, surface: .tenant,
                                        rawParameters: [("bucket_days", "14")], today: today)
        #expect(request.values["bucket_days"] == .integer(14))
        #expect(request.values["since"] == .text("2025-11-24"))
        #expect(request.values["course"] == .null)
    }

    @Test(arguments: [
        [("days", "0")], [("days", "366")], [("days", "ten")], [("days", "30"), ("days", "31")],
        [("unknown", "1")], [("tenant", "acme")], [("TENANT_ID", "x")], [("org", "x")],
    ])
    func refusesBadParameters(_ parameters: [(String, String)]) {
        #expect(throws: TenantScopeError.self) {
            try ReportRequest(definition: StandardReports.activeLearners, surface: .tenant, rawParameters: parameters, today: today)
        }
    }

    /// Text is counted in code points, as PostgreSQL's `length` and JSON Schema's `maxLength` count:
    /// 300 × "e" + U+0301 is 300 Characters but 600 code points, over `course`'s 500.
    @Test func textLimitsCountCodePoints() throws {
        let combining = String(repeating: "e\u{301}", count: 300)
        #expect(throws: TenantScopeError.self) {
            try ReportRequest(definition: StandardReports.completionRateByCourse, surface: .tenant, rawParameters: [("course", combining)], today: today)
        }
        let atLimit = String(repeating: "e\u{301}", count: 250)
        let request = try ReportRequest(definition: StandardReports.completionRateByCourse, surface: .tenant, rawParameters: [("course", atLimit)], today: today)
        #expect(request.values["course"] == .text(atLimit))
    }

    @Test func refusesMalformedDates() {
        for value in ["2026-13-01", "yesterday", "2026-02-30", "2026-1-1"] {
            #expect(throws: TenantScopeError.self) {
                try ReportRequest(definition: StandardReports.cohortComparison, surface: .tenant, rawParameters: [("since", value)], today: today)
            }
        }
    }
}
