import Plot

/// One of the big numbers above a page's charts: what it counts, the number, and over what.
struct HeadlineFigure: Sendable, Hashable {
    var label: String
    var value: String
    var note: String

    /// The row of figures, as a list with a heading for screen readers.
    static func list(_ figures: [HeadlineFigure]) -> Node<HTML.BodyContext> {
        .section(
            .class("figures"), .attr("aria-labelledby", "figures-heading"),
            .h2(.id("figures-heading"), .class("visually-hidden"), .text("Headline figures")),
            .ul(.class("kpis"), .forEach(figures) { figure in
                .li(.class("kpi"),
                    .span(.class("kpi-label"), .text(figure.label)),
                    .strong(.class("kpi-value"), .text(figure.value)),
                    .span(.class("kpi-note"), .text(figure.note)))
            }))
    }
}
