/// Vertical bars, one per labelled value (a histogram's buckets). Each bar has a tooltip over its
/// whole column, and its value above it when there is room.
public struct BarChart: Sendable {
    public var id: String
    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var points: [ChartPoint]
    public var maximum: Double?
    public var format: ChartValueFormat

    public init(id: String, title: String, xLabel: String, yLabel: String, points: [ChartPoint], maximum: Double? = nil,
                format: ChartValueFormat = .count) {
        self.id = id
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.points = points
        self.maximum = maximum
        self.format = format
    }

    /// Bars never get wider than this, so that two buckets do not look like two walls.
    static let widest = 64.0

    public var markup: Markup {
        .fragment([svg, ChartDataTable(title: title, xLabel: xLabel, yLabel: yLabel, points: points, format: format).markup])
    }

    var svg: Markup {
        let frame = ChartFrame(axis: ValueAxis(values: points.map(\.value), maximum: maximum, format: format), roomOnTop: true)
        let description = Charts.describe(points, xLabel: xLabel, yLabel: yLabel, format: format)
        guard !points.isEmpty else {
            return frame.svg(id: id, description: description, title: title, frame.grid + frame.axisTitles(x: xLabel, y: yLabel) + [frame.emptyNote])
        }
        let c = ChartText.coordinate
        let slot = frame.plotWidth / Double(points.count)
        let barWidth = min(Self.widest, max(2, slot * 0.7))
        let xs = points.indices.map { frame.x(index: $0, of: points.count, centered: true) }
        let showValues = points.allSatisfy { ChartText.width(format.text($0.value)) + 4 <= slot }
        var content = frame.grid
        for (index, point) in points.enumerated() {
            let y = frame.y(point.value)
            var parts: [Markup] = [
                .element("title", [:], [.text(Charts.tooltip(point, format: format))]),
                .element("rect", ["class": "hit", "x": c(xs[index] - slot / 2), "y": c(frame.top), "width": c(slot), "height": c(frame.plotHeight)]),
                .element("rect", ["class": "bar", "x": c(xs[index] - barWidth / 2), "y": c(y), "width": c(barWidth), "height": c(max(0, frame.baseline - y))]),
            ]
            if showValues {
                parts.append(.element("text", ["class": "value", "x": c(xs[index]), "y": c(y - 6), "text-anchor": "middle"], [.text(format.text(point.value))]))
            }
            content.append(.element("g", ["class": "point"], parts))
        }
        content += CategoryTicks(labels: points.map { $0.tick ?? $0.label }, positions: xs, bounds: 0...ChartFrame.width)
            .markup(positions: xs, y: frame.baseline + 20)
        content += frame.axisTitles(x: xLabel, y: yLabel)
        return frame.svg(id: id, description: description, title: title, content)
    }
}
