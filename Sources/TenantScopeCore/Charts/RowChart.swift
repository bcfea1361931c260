/// Horizontal bars, one row per category, for categories with long names (courses): the names sit
/// on the left where they have room, shortened past ``longestLabel`` characters with the whole name
/// in a tooltip, and each bar ends with its value.
public struct RowChart: Sendable {
    public var id: String
    public var title: String
    /// What the rows are (`Course`), for the data table.
    public var categoryLabel: String
    /// What the bars measure (`Completion rate`), under the value axis.
    public var valueLabel: String
    public var points: [ChartPoint]
    public var maximum: Double?
    public var format: ChartValueFormat
    /// False when the page shows the numbers in a table of its own.
    public var includesDataTable: Bool

    public init(id: String, title: String, categoryLabel: String, valueLabel: String, points: [ChartPoint], maximum: Double? = nil,
                format: ChartValueFormat = .count, includesDataTable: Bool = true) {
        self.id = id
        self.title = title
        self.categoryLabel = categoryLabel
        self.valueLabel = valueLabel
        self.points = points
        self.maximum = maximum
        self.format = format
        self.includesDataTable = includesDataTable
    }

    /// Names longer than this are shortened: the name column takes at most about 40% of the width.
    static let longestLabel = 20
    static let rowHeight = 32.0
    static let barHeight = 18.0
    static let top = 8.0
    /// Room under the rows for the value labels and the axis title.
    static let bottom = 50.0
    /// Room right of the bars for a value label (`100%`).
    static let valueRoom = 52.0

    public var markup: Markup {
        let table = includesDataTable
            ? ChartDataTable(title: title, xLabel: categoryLabel, yLabel: valueLabel, points: points, format: format).markup
            : Markup.empty
        return .fragment([svg, table])
    }

    var svg: Markup {
        let c = ChartText.coordinate
        let description = Charts.describe(points, xLabel: categoryLabel, yLabel: valueLabel, format: format)
        guard !points.isEmpty else {
            return Charts.svg(id: id, title: title, description: description, height: 80, dense: false, [
                .element("text", ["class": "empty", "x": c(ChartFrame.width / 2), "y": "46.0", "text-anchor": "middle"], [.text("No data for this selection")]),
            ])
        }
        let axis = ValueAxis(values: points.map(\.value), maximum: maximum, format: format)
        let names = points.map { ChartText.shortened($0.label, to: Self.longestLabel) ?? $0.label }
        let labelWidth = 12 + (names.map(ChartText.width).max() ?? 0)
        let plotLeft = labelWidth + 4
        let plotWidth = ChartFrame.width - plotLeft - Self.valueRoom
        let plotBottom = Self.top + Double(points.count) * Self.rowHeight
        let height = plotBottom + Self.bottom
        func x(_ value: Double) -> Double { plotLeft + axis.fraction(value) * plotWidth }

        var content: [Markup] = axis.ticks.flatMap { value -> [Markup] in
            [
                .element("line", ["class": "grid", "x1": c(x(value)), "x2": c(x(value)), "y1": c(Self.top), "y2": c(plotBottom)]),
                .element("text", ["class": "tick", "x": c(x(value)), "y": c(plotBottom + 20), "text-anchor": "middle"], [.text(format.text(value))]),
            ]
        }
        content.append(.element("line", ["class": "axis", "x1": c(plotLeft), "x2": c(plotLeft), "y1": c(Self.top), "y2": c(plotBottom)]))
        content.append(.element("text", ["class": "axis-label", "x": c(plotLeft + plotWidth / 2), "y": c(height - 8), "text-anchor": "middle"],
                                [.text(valueLabel)]))
        for (index, point) in points.enumerated() {
            let middle = Self.top + (Double(index) + 0.5) * Self.rowHeight
            let end = x(point.value)
            content.append(.element("g", ["class": "point"], [
                .element("title", [:], [.text(Charts.tooltip(point, format: format))]),
                .element("rect", ["class": "hit", "x": "0.0", "y": c(middle - Self.rowHeight / 2), "width": c(ChartFrame.width), "height": c(Self.rowHeight)]),
                .element("text", ["class": "tick row-label", "x": c(labelWidth), "y": c(middle + 5), "text-anchor": "end"],
                         [.text(names[index])] + (names[index] == point.label ? [] : [.element("title", [:], [.text(point.label)])])),
                .element("rect", ["class": "bar", "x": c(plotLeft), "y": c(middle - Self.barHeight / 2), "width": c(max(0, end - plotLeft)),
                                  "height": c(Self.barHeight)]),
                .element("text", ["class": "value", "x": c(end + 6), "y": c(middle + 5), "text-anchor": "start"], [.text(format.text(point.value))]),
            ]))
        }
        return Charts.svg(id: id, title: title, description: description, height: height, dense: false, content)
    }
}
