/// The numbers of a chart as a table, folded under the chart: for screen readers, for copying, and
/// for anyone who wants the exact values.
struct ChartDataTable {
    var title: String
    var xLabel: String
    var yLabel: String
    var points: [ChartPoint]
    var format: ChartValueFormat

    var markup: Markup {
        let rows: [Markup] = points.isEmpty
            ? [.element("tr", [:], [.element("td", ["colspan": "2"], [.text("No data")])])]
            : points.map { point in
                .element("tr", [:], [
                    .element("th", ["scope": "row"], [.text(point.isPartial ? "\(point.label) (today so far)" : point.label)]),
                    .element("td", [:], [.text(format.text(point.value))]),
                ])
            }
        return .element("details", ["class": "data"], [
            .element("summary", [:], [.text("Data table"), .element("span", ["class": "visually-hidden"], [.text(": \(title)")])]),
            .element("div", ["class": "table-scroll"], [
                .element("table", [:], [
                    .element("caption", ["class": "visually-hidden"], [.text(title)]),
                    .element("thead", [:], [.element("tr", [:], [
                        .element("th", ["scope": "col"], [.text(xLabel)]),
                        .element("th", ["scope": "col"], [.text(yLabel)]),
                    ])]),
                    .element("tbody", [:], rows),
                ]),
            ]),
        ])
    }
}
