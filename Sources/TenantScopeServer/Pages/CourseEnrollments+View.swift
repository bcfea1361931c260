import Plot

extension CourseEnrollments {
    struct View {
        let model: Model

        func render() -> String {
            let filters = model.filters
            return PageLayout(
                title: model.course,
                subtitle: "Course enrollments · last \(filters.days) days · \(DayText.range(model.periodStart, model.today))",
                back: ("Learning dashboard", DashboardFilters(days: filters.days).url("/dashboards/learning")),
                controls: periodForm,
                content: [
                    HeadlineFiguresView(figures: [
                        HeadlineFigure(label: "Enrollments", value: FigureText.count(model.enrollments.count), note: "since \(DayText.short(model.periodStart))"),
                        HeadlineFigure(label: "Completions", value: FigureText.count(model.completions), note: "of those enrollments"),
                        HeadlineFigure(label: "Completion rate", value: FigureText.percent(model.completionRate), note: "of enrollments"),
                        HeadlineFigure(label: "Median time to complete", value: FigureText.days(model.medianDaysToComplete), note: "from enrollment"),
                    ]).node,
                    .div(.class("grid single"), learnersPanel),
                ],
                footer: "Days are UTC. Learner names come from the statements' actors; only tenant admins see this page."
            ).render()
        }

        /// The period, keeping the course.
        var periodForm: Node<HTML.BodyContext> {
            .form(
                .class("filters"), .method(.get), .attr("action", "/dashboards/learning/enrollments"), .attr("aria-label", "Filters"),
                .input(.type(.hidden), .attr("name", "course"), .attr("value", model.course)),
                .label(.text("Period"), .select(.attr("name", "days"), .forEach(DashboardFilters.periods) { days in
                    .element(named: "option", nodes: [.attr("value", "\(days)"), .flag("selected", days == model.filters.days), .text("Last \(days) days")])
                })),
                .button(.type(.submit), .text("Apply"))
            )
        }

        var learnersPanel: Node<HTML.BodyContext> {
            PanelView(
                id: "course-enrollments", title: "Learners",
                summary: "One row per learner who enrolled since \(DayText.short(model.periodStart)), earliest first",
                csvURL: DashboardPanel.courseEnrollments.csvURL(model.filters),
                export: model.exportFormToken.map { PanelExportForm(panel: .courseEnrollments, filters: model.filters, formToken: $0) },
                content: [
                    model.enrollments.isEmpty
                        ? .p(.class("empty"), .attr("role", "status"), .text("No enrollments in this course in the period."))
                        : table,
                ]
            ).node
        }

        /// An actor as a person reads it: `ada@acme.example` for `mbox:mailto:ada@acme.example`.
        static func readable(_ actor: String) -> String {
            actor.hasPrefix("mbox:mailto:") ? String(actor.dropFirst("mbox:mailto:".count)) : actor
        }

        /// `Nov 3` in the current year, `Nov 3, 2025` before it.
        func day(_ text: String) -> String {
            text.prefix(4) == model.today.prefix(4) ? DayText.short(text) : DayText.medium(text)
        }

        var table: Node<HTML.BodyContext> {
            .div(.class("table-scroll"), .attr("role", "region"), .attr("aria-label", "Learners of \(model.course), table"), .attr("tabindex", "0"), .table(
                .caption(.class("visually-hidden"), .text("Learners of \(model.course)")),
                .thead(.tr(
                    .th(.attr("scope", "col"), .text("Learner")),
                    .th(.attr("scope", "col"), .text("Enrolled")),
                    .th(.attr("scope", "col"), .text("Completed")),
                    .th(.attr("scope", "col"), .class("num"), .text("Days to complete")),
                    .th(.attr("scope", "col"), .class("wide-only"), .text("Cohort")))),
                .tbody(.forEach(model.enrollments) { enrollment in
                    .tr(
                        .th(.attr("scope", "row"), .text(enrollment.learner),
                            .if(enrollment.learner != enrollment.actor, .span(.class("actor"), .text(Self.readable(enrollment.actor))))),
                        .td(.class("date"), .text(day(enrollment.enrolled))),
                        .td(.class("date"), .text(enrollment.completed.map(day) ?? "Not yet")),
                        .td(.class("num"), .text(enrollment.daysToComplete.map(String.init) ?? FigureText.none)),
                        .td(.class("wide-only"), .text(enrollment.cohort)))
                })))
        }
    }
}
