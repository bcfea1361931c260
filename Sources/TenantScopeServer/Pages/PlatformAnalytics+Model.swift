import Foundation
import TenantScopeCore
import TenantScopePostgres

extension PlatformAnalytics {
    struct Model: Sendable, Equatable {
        struct Day: Sendable, Equatable {
            var day: String
            var learners: Int
        }

        struct Feature: Sendable, Equatable {
            var name: String
            var tenantsUsing: Int
            var tenantsTotal: Int
            var share: Double?
        }

        struct Tenant: Sendable, Equatable {
            var slug: String
            var name: String
            var tier: String
            var activeLearners: Int
            var statements: Int
            var featuresUsed: Int
        }

        var days: Int
        var today: String
        var periodStart: String
        var operatorName: String
        /// Distinct (tenant, learner) pairs active in the period.
        var activeLearners: Int
        var growth: [Day]
        var features: [Feature]
        var tenants: [Tenant]
        /// When a read replica answered any report, the most it was behind the primary; nil when the primary did.
        var replicaLagSeconds: Double? = nil
        /// Dedicated clusters that did not answer in time: their tenants' activity is missing from the figures.
        var missingClusters: [String] = []
    }
}

extension PlatformAnalytics.Model {
    var statements: Int { tenants.reduce(0) { $0 + $1.statements } }
    var activeTenants: Int { tenants.filter { $0.activeLearners > 0 }.count }
}

extension PlatformAnalytics.Model {
    /// From `active_learners`, `feature_adoption` and `tenant_overview` on the platform surface.
    init(growth: ReportResult, adoption: ReportResult, tenants: ReportResult, operatorName: String, days: Int, today: Date) throws {
        let growthRows = ReportTable(growth).rows
        self.init(
            days: days,
            today: ISO8601Timestamp.day(today),
            periodStart: DashboardFilters(days: days).since(today: today),
            operatorName: operatorName,
            activeLearners: try growthRows.first?.integer("window_active_learners") ?? 0,
            growth: try growthRows.map { Day(day: try $0.text("day") ?? "", learners: try $0.integer("active_learners") ?? 0) },
            features: try ReportTable(adoption).rows.map { row in
                Feature(name: try row.text("feature") ?? "", tenantsUsing: try row.integer("tenants_using") ?? 0,
                        tenantsTotal: try row.integer("tenants_total") ?? 0, share: try row.number("share_of_tenants"))
            },
            tenants: try ReportTable(tenants).rows.map { row in
                Tenant(slug: try row.text("tenant") ?? "", name: try row.text("name") ?? "", tier: try row.text("tier") ?? "",
                       activeLearners: try row.integer("active_learners") ?? 0, statements: try row.integer("statements") ?? 0,
                       featuresUsed: try row.integer("features_used") ?? 0)
            })
        replicaLagSeconds = ReplicaNote.lag(of: [growth, adoption, tenants])
        missingClusters = Array(Set([growth, adoption, tenants].flatMap { $0.clusters?.missing.map(\.cluster.rawValue) ?? [] })).sorted()
    }
}
