import Plot
import TenantScopeCore

extension TenantDashboard {
    /// Renders the dashboard: header with filters, headline figures, saved views, then four panels.
    struct View {
        let model: Model

        func render() -> String {
            PageLayout(
                title: "Learning dashboard",
                subtitle: subtitle,
                banner: model.presentation.banner,
                nav: model.presentation.exportFormToken == nil ? [] : [("Exports", filters.url("/dashboards/exports"))],
                controls: filterForm,
                content: [
                    HeadlineFiguresView(figures: headline).node,
                    .unwrap(model.presentation.savedViews) { SavedViews.View(model: $0).node },
                    .div(.class("grid"), activityPanel, timeToCompletePanel, completionPanel, cohortPanel),
                    customPanels,
                ],
                footer: footer
            ).render()
        }

        /// Says so when a read replica answered: its figures may trail the newest data by that lag.
        var footer: String {
            ReplicaNote.footer("Days are UTC. Today's figures are partial until the day ends.", lag: model.replicaLagSeconds)
        }

        var filters: DashboardFilters { model.filters }
        var since: String { DayText.short(model.periodStart) }

        /// `Last 30 days · Oct 26 – Nov 24, 2026`, and the course when one is chosen.
        var subtitle: String {
            var text = "Last \(filters.days) days · \(DayText.range(model.periodStart, model.today))"
            if let course = filters.course { text += " · \(course)" }
            return text
        }

        var headline: [HeadlineFigure] {
            [
                HeadlineFigure(label: "Active learners", value: FigureText.count(model.activeLearners),
                               note: filters.course == nil ? "distinct, in the period" : "distinct, in the period, all courses"),
                HeadlineFigure(label: "Enrollments", value: FigureText.count(model.enrollments), note: "since \(since)"),
                HeadlineFigure(label: "Completions", value: FigureText.count(model.completions), note: "of those enrollments"),
                HeadlineFigure(label: "Completion rate", value: FigureText.percent(model.completionRate), note: "of enrollments"),
                HeadlineFigure(label: "Median time to complete", value: FigureText.days(model.medianDaysToComplete), note: "from enrollment"),
            ]
        }

        /// The pinned custom reports, in a grid of their own; nothing when there are none.
        var customPanels: Node<HTML.BodyContext> {
            guard !model.customPanels.isEmpty else { return .empty }
            return .div(.class("grid"), .attr("aria-label", "Custom reports"), .forEach(model.customPanels) { panel in
                panel.node(csv: model.presentation.offersDownloads, exportFormToken: model.presentation.exportFormToken, filters: filters)
            })
        }

        // MARK: Filters

        var filterForm: Node<HTML.BodyContext> {
            guard let action = model.presentation.filterAction else { return .empty }
            return .form(
                .class("filters"), .method(.get), .attr("action", action), .attr("aria-label", "Filters"),
                .label(.text("Period"), .select(.attr("name", "days"), .forEach(DashboardFilters.periods) { days in
                    .element(named: "option", nodes: [.attr("value", "\(days)"), .flag("selected", days == filters.days), .text("Last \(days) days")])
                })),
                .label(.text("Course"), .select(.attr("name", "course"),
                    .element(named: "option", nodes: [.attr("value", ""), .text("All courses")]),
                    .forEach(model.courseChoices) { course in
                        .element(named: "option", nodes: [.attr("value", course), .flag("selected", course == filters.course), .text(course)])
                    })),
                .button(.type(.submit), .text("Apply"))
            )
        }

        // MARK: Panels

        func csv(_ panel: DashboardPanel) -> String? {
            model.presentation.offersDownloads ? panel.csvURL(filters) : nil
        }

        func export(_ panel: DashboardPanel) -> PanelExportForm? {
            model.presentation.exportFormToken.map { PanelExportForm(panel: panel, filters: filters, formToken: $0) }
        }

        var activityPanel: Node<HTML.BodyContext> {
            let points = model.activity.map { day in
                ChartPoint(day.day, Double(day.learners), tick: DayText.short(day.day), isPartial: day.day == model.today)
            }
            return PanelView(
                id: "active-learners", title: "Active learners",
                summary: "\(FigureText.count(model.activeLearners)) distinct active learners in the last \(filters.days) days",
                csvURL: csv(.activeLearners), export: export(.activeLearners),
                content: [.chart(LineChart(id: "active-learners-chart", title: "Active learners", xLabel: "Day (UTC)", yLabel: "Learners",
                                           points: points).markup)]
            ).node
        }

        var completionPanel: Node<HTML.BodyContext> {
            let points = model.courses.map { course in
                ChartPoint(course.name, course.rate ?? 0, detail: "\(FigureText.count(course.completed)) of \(FigureText.count(course.enrolled)) enrollments completed")
            }
            let chart = RowChart(id: "completion-rate-chart", title: "Completion rate by course", categoryLabel: "Course", valueLabel: "Completion rate",
                                 points: points, maximum: 1, format: .percent, includesDataTable: false)
            return PanelView(
                id: "completion-rate", title: "Completion rate by course",
                summary: "Share of enrollments since \(since) that were completed",
                csvURL: csv(.completionRate), export: export(.completionRate), isWide: true,
                content: [.div(.class("split"), .div(.chart(chart.markup)), .div(courseTable))]
            ).node
        }

        /// The courses' numbers, open under the chart while the list is short. For admins each course
        /// opens its learners.
        var courseTable: Node<HTML.BodyContext> {
            guard !model.courses.isEmpty else { return .empty }
            let drillDown = model.presentation.offersDrillDown
            return .details(
                .class("data"), .flag("open", model.courses.count <= 10),
                .summary(.text("Courses"), .span(.class("visually-hidden"), .text(": completion by course"))),
                .if(drillDown, .p(.class("note"), .text("Select a course to see its learners."))),
                .div(.class("table-scroll"), .table(
                    .caption(.class("visually-hidden"), .text("Completion by course")),
                    .thead(.tr(
                        .th(.attr("scope", "col"), .text("Course")),
                        .th(.attr("scope", "col"), .class("num"), .text("Enrolled")),
                        .th(.attr("scope", "col"), .class("num"), .text("Completed")),
                        .th(.attr("scope", "col"), .class("num"), .text("Rate")))),
                    .tbody(.forEach(model.courses) { course in
                        .tr(
                            .th(.attr("scope", "row"), drillDown
                                ? .a(.attr("href", DashboardFilters(days: filters.days, course: course.name).url("/dashboards/learning/enrollments")),
                                     .text(course.name))
                                : .text(course.name)),
                            .td(.class("num"), .text(FigureText.count(course.enrolled))),
                            .td(.class("num"), .text(FigureText.count(course.completed))),
                            .td(.class("num"), .text(FigureText.percent(course.rate))))
                    })))
            )
        }

        var timeToCompletePanel: Node<HTML.BodyContext> {
            let points = model.completionBuckets.map { bucket in
                ChartPoint("\(bucket.from)–\(bucket.to) days", Double(bucket.completions), tick: "\(bucket.from)–\(bucket.to)")
            }
            return PanelView(
                id: "time-to-complete", title: "Time to complete",
                summary: "Completions of enrollments since \(since), by days from enrollment, in \(Model.bucketDays)-day buckets",
                csvURL: csv(.timeToComplete), export: export(.timeToComplete),
                content: [.chart(BarChart(id: "time-to-complete-chart", title: "Time to complete", xLabel: "Days from enrollment to completion",
                                          yLabel: "Completions", points: points).markup)]
            ).node
        }

        var cohortPanel: Node<HTML.BodyContext> {
            let rows = model.cohorts.map { cohort in
                HeatTable.Row(header: cohort.name, cells: [
                    .init("\(FigureText.count(cohort.completed)) / \(FigureText.count(cohort.enrolled))"),
                    .init(FigureText.percent(cohort.rate), heat: cohort.rate),
                    .init(FigureText.points(cohort.change)),
                    .init(cohort.rank.map(String.init) ?? FigureText.none),
                ])
            }
            // Five columns fit a phone's width; the CSV download has every column of the report.
            let table = HeatTable(caption: "Cohort comparison", columns: ["Cohort", "Completed / enrolled", "Completion rate", "Change", "Rank"],
                                  rows: rows)
            return PanelView(
                id: "cohort-comparison", title: "Cohort comparison",
                summary: "Completion rate per cohort, shaded from lowest to highest; change in points against the previous cohort",
                csvURL: csv(.cohortComparison), export: export(.cohortComparison), isWide: true,
                content: [.chart(table.markup)]
            ).node
        }
    }
}
