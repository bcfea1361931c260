import Plot
import TenantScopeCore

extension PlatformAnalytics {
    struct View {
        let model: Model

        func render() -> String {
            PageLayout(
                title: "Platform analytics",
                subtitle: "Last \(model.days) days · \(DayText.range(model.periodStart, model.today)) · all tenants",
                banner: "Platform scope — signed in as \(model.operatorName); every view here is audited",
                controls: periodForm,
                content: [
                    HeadlineFiguresView(figures: [
                        HeadlineFigure(label: "Tenants", value: FigureText.count(model.tenants.count), note: "\(FigureText.count(model.activeTenants)) active in the period"),
                        HeadlineFigure(label: "Active learners", value: FigureText.count(model.activeLearners), note: "distinct per tenant, in the period"),
                        HeadlineFigure(label: "Statements", value: FigureText.count(model.statements), note: "in the period"),
                        HeadlineFigure(label: "Features in use", value: FigureText.count(model.features.filter { $0.tenantsUsing > 0 }.count), note: "by at least one tenant"),
                    ]).node,
                    .div(.class("grid"), growthPanel, adoptionPanel),
                    .div(.class("grid single"), tenantPanel),
                ],
                footer: ReplicaNote.footer("Days are UTC. Today's figures are partial until the day ends. Figures come from per-tenant roll-ups.",
                                           lag: model.replicaLagSeconds) + missingClustersNote
            ).render()
        }

        /// Says which dedicated clusters did not answer, so figures without their tenants are never taken for the whole.
        var missingClustersNote: String {
            guard !model.missingClusters.isEmpty else { return "" }
            let names = model.missingClusters.joined(separator: ", ")
            return " Incomplete: the cluster\(model.missingClusters.count == 1 ? "" : "s") \(names) did not answer in time, "
                + "so \(model.missingClusters.count == 1 ? "its" : "their") tenants' activity is missing from these figures."
        }

        var periodForm: Node<HTML.BodyContext> {
            .form(
                .class("filters"), .method(.get), .attr("action", "/platform/analytics"), .attr("aria-label", "Filters"),
                .label(.text("Period"), .select(.attr("name", "days"), .forEach(DashboardFilters.periods) { days in
                    .element(named: "option", nodes: [.attr("value", "\(days)"), .flag("selected", days == model.days), .text("Last \(days) days")])
                })),
                .button(.type(.submit), .text("Apply"))
            )
        }

        var growthPanel: Node<HTML.BodyContext> {
            let points = model.growth.map { day in
                ChartPoint(day.day, Double(day.learners), tick: DayText.short(day.day), isPartial: day.day == model.today)
            }
            return PanelView(
                id: "platform-growth", title: "Active learners across tenants",
                summary: "\(FigureText.count(model.activeLearners)) distinct learners in the last \(model.days) days, aggregated from per-tenant roll-ups",
                content: [.chart(LineChart(id: "platform-growth-chart", title: "Active learners across tenants", xLabel: "Day (UTC)", yLabel: "Learners",
                                           points: points).markup)]
            ).node
        }

        var adoptionPanel: Node<HTML.BodyContext> {
            let points = model.features.map { feature in
                ChartPoint(feature.name, feature.share ?? 0, detail: "\(feature.tenantsUsing) of \(feature.tenantsTotal) tenants")
            }
            return PanelView(
                id: "feature-adoption", title: "Feature adoption",
                summary: "Share of tenants that used each feature in the period",
                content: [.chart(RowChart(id: "feature-adoption-chart", title: "Feature adoption", categoryLabel: "Feature", valueLabel: "Share of tenants",
                                          points: points, maximum: 1, format: .percent).markup)]
            ).node
        }

        var tenantPanel: Node<HTML.BodyContext> {
            PanelView(
                id: "tenant-table", title: "Tenants",
                summary: "Each tenant's own figures for the period; preview opens a tenant's dashboard as that tenant (audited).",
                content: [
                    .div(.class("table-scroll"), .attr("role", "region"), .attr("aria-label", "Tenants table"), .attr("tabindex", "0"), .table(
                        .caption(.class("visually-hidden"), .text("Tenants")),
                        .thead(.tr(
                            .th(.attr("scope", "col"), .text("Tenant")),
                            .th(.attr("scope", "col"), .text("Name")),
                            .th(.attr("scope", "col"), .text("Tier")),
                            .th(.attr("scope", "col"), .class("num"), .text("Active learners")),
                            .th(.attr("scope", "col"), .class("num"), .text("Statements")),
                            .th(.attr("scope", "col"), .class("num"), .text("Features used")),
                            .th(.attr("scope", "col"), .text("Preview")))),
                        .tbody(
                            .if(model.tenants.isEmpty, .tr(.td(.attr("colspan", "7"), .class("empty"), .text("No tenants yet")))),
                            .forEach(model.tenants) { tenant in
                                .tr(
                                    .th(.attr("scope", "row"), .text(tenant.slug)),
                                    .td(.text(tenant.name)),
                                    .td(.text(tenant.tier)),
                                    .td(.class("num"), .text(FigureText.count(tenant.activeLearners))),
                                    .td(.class("num"), .text(FigureText.count(tenant.statements))),
                                    .td(.class("num"), .text(FigureText.count(tenant.featuresUsed))),
                                    .td(.a(.attr("href", "/platform/preview/\(tenant.slug)"),
                                           .text("Open as tenant"), .span(.class("visually-hidden"), .text(" \(tenant.slug)")))))
                            }))),
                ]
            ).node
        }
    }
}
