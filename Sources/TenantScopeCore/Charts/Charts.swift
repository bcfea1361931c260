/// Server-rendered charts: inline SVG plus an accessible data table, no script, nothing from another
/// origin, built as ``Markup`` from typed points so that every label is escaped. Every chart has a
/// title and a description for screen readers (`role="img"`), axis labels that do not overlap, a
/// tooltip on every value, and the same numbers as a table; empty data says so instead of drawing an
/// empty frame. The functions here render a chart to text; pages use the chart types directly.
public enum Charts {
    /// A line over ordered points (a daily series).
    public static func line(id: String, title: String, xLabel: String, yLabel: String, points: [ChartPoint]) -> String {
        LineChart(id: id, title: title, xLabel: xLabel, yLabel: yLabel, points: points).markup.rendered
    }

    /// Vertical bars, one per labelled value (histogram buckets, shares).
    public static func bars(id: String, title: String, xLabel: String, yLabel: String, points: [ChartPoint], maximum: Double? = nil,
                            percent: Bool = false) -> String {
        BarChart(id: id, title: title, xLabel: xLabel, yLabel: yLabel, points: points, maximum: maximum,
                 format: percent ? .percent : .count).markup.rendered
    }

    /// A table shaded by value. `rows` are texts, the first of each its header; `heat` gives, by column
    /// index, the numbers to shade that column by (nil: a plain cell).
    public static func heatTable(id: String, title: String, columns: [String], rows: [[String]], heat: [Int: [Double?]], summary: String) -> String {
        let typed = rows.enumerated().map { index, row in
            HeatTable.Row(header: row.first ?? "", cells: row.dropFirst().enumerated().map { offset, text in
                HeatTable.Cell(text, heat: heat[offset + 1].flatMap { $0.indices.contains(index) ? $0[index] : nil })
            })
        }
        return HeatTable(caption: "\(title): \(summary)", columns: columns, rows: typed).markup.rendered
    }

    // MARK: - Shared parts

    /// The `<svg>` of a chart: an image named by its title and described by its description.
    static func svg(id: String, title: String, description: String, height: Double, dense: Bool, _ content: [Markup]) -> Markup {
        .element("svg", ["class": dense ? "chart dense" : "chart", "role": "img", "aria-labelledby": "\(id)-title \(id)-desc",
                         "viewBox": "0 0 \(Int(ChartFrame.width)) \(Int(height.rounded(.up)))", "width": "100%",
                         "preserveAspectRatio": "xMidYMid meet"],
                 [.element("title", ["id": "\(id)-title"], [.text(title)]), .element("desc", ["id": "\(id)-desc"], [.text(description)])] + content)
    }

    /// What a screen reader hears for a chart: how many values, of what, over what, and their range.
    static func describe(_ points: [ChartPoint], xLabel: String, yLabel: String, format: ChartValueFormat) -> String {
        guard let low = points.map(\.value).min(), let high = points.map(\.value).max() else { return "No data for this selection." }
        var text = "\(points.count) values of \(yLabel.lowercased()) by \(xLabel.lowercased()), from \(format.text(low)) to \(format.text(high))."
        if points.last?.isPartial == true { text += " The last, today, is partial: the day is not over." }
        return text
    }

    /// A value's tooltip: `Safety: 50%`, with its detail and whether it is partial.
    static func tooltip(_ point: ChartPoint, format: ChartValueFormat) -> String {
        var text = "\(point.label)\(point.isPartial ? " (today so far)" : ""): \(format.text(point.value))"
        if let detail = point.detail { text += " — \(detail)" }
        return text
    }

    /// The charts' CSS, for the page's `<style>`. Text sizes are in SVG user units: 12 on wide screens,
    /// 18 where the page is narrow and a chart is drawn at about 0.6 of its size; layout reserves room
    /// for 18 (``ChartText``). Tooltips need no script: hovering a value's column highlights it and
    /// the browser shows its `<title>`.
    public static let stylesheet = """
        svg.chart{display:block;width:100%;height:auto;overflow:visible}
        svg.chart text{font-family:inherit}
        svg.chart .tick{font-size:12px;fill:#4a5868}svg.chart .axis-label{font-size:12px;fill:#1d2633;font-weight:600}
        svg.chart .value{font-size:12px;fill:#1d2633;font-weight:600}svg.chart .empty{font-size:15px;fill:#5b6878}
        svg.chart .grid{stroke:#e8ecf2;stroke-width:1}svg.chart .axis{stroke:#9aa5b4;stroke-width:1}
        svg.chart .series{stroke:#2266cc;stroke-width:2.5;stroke-linejoin:round;stroke-linecap:round}
        svg.chart .series.partial{stroke-dasharray:5 5}svg.chart .area{fill:#2266cc;fill-opacity:.08;stroke:none}
        svg.chart .dot{fill:#fff;stroke:#2266cc;stroke-width:2}svg.chart .partial .dot{stroke-dasharray:2 2}
        svg.chart.dense .dot{opacity:0}svg.chart .point:hover .dot{opacity:1}
        svg.chart .bar{fill:#3b7dd8}svg.chart .point:hover .bar{fill:#1f5fb8}
        svg.chart .hit{fill:transparent}svg.chart .point:hover .hit{fill:#2266cc;fill-opacity:.07}
        @media (max-width:600px){svg.chart .tick,svg.chart .axis-label,svg.chart .value{font-size:18px}svg.chart .empty{font-size:20px}}
        """
}
