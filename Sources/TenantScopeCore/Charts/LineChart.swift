/// A daily series as a line. Every point has a tooltip with its value, over a column of the plot
/// wide enough to hover; a partial last point (today so far) is joined by a dashed segment and named
/// in a legend, so it does not read as a drop.
public struct LineChart: Sendable {
    public var id: String
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [ChartPoint]
    public var format: ChartValueFormat

    public init(id: String, title: String, xLabel: String, yLabel: String, points: [ChartPoint], format: ChartValueFormat = .count) {
        self.id = id
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
        self.format = format
    }

    /// Past this many points, dots only show under the pointer.
    static let denseAfter = 45

    /// The chart and its data table.
    public var markup: Markup {
        .fragment([svg, ChartDataTable(title: title, xLabel: xLabel, yLabel: yLabel, points: points, format: format).markup])
    }

    var svg: Markup {
        let hasPartial = points.count > 1 && points.last?.isPartial == true
        let frame = ChartFrame(axis: ValueAxis(values: points.map(\.value), format: format), roomOnTop: hasPartial)
        let description = Charts.describe(points, xLabel: xLabel, yLabel: yLabel, format: format)
        guard !points.isEmpty else {
            return frame.svg(id: id, description: description, title: title, dense: false, frame.grid + frame.axisTitles(x: xLabel, y: yLabel) + [frame.emptyNote])
        }
        let c = ChartText.coordinate
        let xs = points.indices.map { frame.x(index: $0, of: points.count, centered: false) }
        let ys = points.map { frame.y($0.value) }
        let complete = hasPartial ? points.count - 1 : points.count
        let line = (0..<complete).map { "\($0 == 0 ? "M" : "L")\(c(xs[$0])),\(c(ys[$0]))" }.joined(separator: " ")
        var content = frame.grid
        if complete > 1 {
            content.append(.element("path", ["class": "area", "d": "\(line) L\(c(xs[complete - 1])),\(c(frame.baseline)) L\(c(xs[0])),\(c(frame.baseline)) Z"]))
        }
        content.append(.element("path", ["class": "series", "d": line, "fill": "none"]))
        if hasPartial {
            let last = points.count - 1
            content.append(.element("path", ["class": "series partial", "d": "M\(c(xs[last - 1])),\(c(ys[last - 1])) L\(c(xs[last])),\(c(ys[last]))", "fill": "none"]))
            content.append(legend(frame))
        }
        // A hover column per point, as wide as the space between points, carries the tooltip.
        let column = points.count > 1 ? frame.plotWidth / Double(points.count - 1) : frame.plotWidth
        for (index, point) in points.enumerated() {
            let x0 = max(frame.left, xs[index] - column / 2)
            let x1 = min(frame.left + frame.plotWidth, xs[index] + column / 2)
            content.append(.element("g", ["class": point.isPartial ? "point partial" : "point"], [
                .element("title", [:], [.text(Charts.tooltip(point, format: format))]),
                .element("rect", ["class": "hit", "x": c(x0), "y": c(frame.top), "width": c(max(0, x1 - x0)), "height": c(frame.plotHeight)]),
                .element("circle", ["class": "dot", "cx": c(xs[index]), "cy": c(ys[index]), "r": "3"]),
            ]))
        }
        let ticks = CategoryTicks(labels: points.map { $0.tick ?? $0.label }, positions: xs, bounds: 0...ChartFrame.width)
        content += ticks.markup(positions: xs, y: frame.baseline + 20)
        content += frame.axisTitles(x: xLabel, y: yLabel)
        return frame.svg(id: id, description: description, title: title, dense: points.count > Self.denseAfter, content)
    }

    /// Top right: what the solid and the dashed line mean.
    func legend(_ frame: ChartFrame) -> Markup {
        let c = ChartText.coordinate
        let right = ChartFrame.width - frame.right
        let textWidth = ChartText.width("Today so far")
        let dashStart = right - textWidth - 34
        return .element("g", ["class": "legend"], [
            .element("line", ["class": "series partial", "x1": c(dashStart), "x2": c(dashStart + 26), "y1": "14.0", "y2": "14.0"]),
            .element("text", ["class": "tick", "x": c(right), "y": "18.0", "text-anchor": "end"], [.text("Today so far")]),
        ])
    }
}
