import Plot

/// The row of headline figures: a list, under a heading for screen readers only.
struct HeadlineFiguresView {
    let figures: [HeadlineFigure]

    var node: Node<HTML.BodyContext> {
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
