/// The drawing area of a line or bar chart: a value axis up the left with gridlines, categories
/// along the bottom, and room around for tick labels and the two axis titles.
struct ChartFrame {
    static let width = 560.0
    static let height = 260.0

    let axis: ValueAxis
    /// Room for the y axis title (rotated) and the widest value label.
    let left: Double
    let right = 16.0
    /// More room on top for a legend or for values over the bars.
    let top: Double
    /// Room for the category labels and the x axis title.
    let bottom = 56.0

    init(axis: ValueAxis, roomOnTop: Bool = false) {
        self.axis = axis
        left = 30 + Double(axis.widestTick) * ChartText.characterWidth
        top = roomOnTop ? 34 : 14
    }

    var plotWidth: Double { Self.width - left - right }
    var plotHeight: Double { Self.height - top - bottom }
    var baseline: Double { top + plotHeight }

    func y(_ value: Double) -> Double { baseline - axis.fraction(value) * plotHeight }

    /// The x of category `index` of `count`: spread edge to edge for a line, centred in slots for bars.
    func x(index: Int, of count: Int, centered: Bool) -> Double {
        if centered || count == 1 { return left + plotWidth * (Double(index) + 0.5) / Double(count) }
        return left + plotWidth * Double(index) / Double(count - 1)
    }

    func svg(id: String, description: String, title: String, dense: Bool = false, _ content: [Markup]) -> Markup {
        Charts.svg(id: id, title: title, description: description, height: Self.height, dense: dense, content)
    }

    /// Gridlines with their values, and the baseline.
    var grid: [Markup] {
        let c = ChartText.coordinate
        return axis.ticks.flatMap { value -> [Markup] in
            let y = self.y(value)
            return [
                .element("line", ["class": "grid", "x1": c(left), "x2": c(Self.width - right), "y1": c(y), "y2": c(y)]),
                .element("text", ["class": "tick", "x": c(left - 6), "y": c(y + 4), "text-anchor": "end"], [.text(axis.format.text(value))]),
            ]
        } + [.element("line", ["class": "axis", "x1": c(left), "x2": c(Self.width - right), "y1": c(baseline), "y2": c(baseline)])]
    }

    /// The two axis titles: under the categories, and up the left side.
    func axisTitles(x: String, y: String) -> [Markup] {
        let c = ChartText.coordinate
        return [
            .element("text", ["class": "axis-label", "x": c(left + plotWidth / 2), "y": c(Self.height - 8), "text-anchor": "middle"], [.text(x)]),
            .element("text", ["class": "axis-label", "transform": "translate(16 \(c(top + plotHeight / 2))) rotate(-90)", "text-anchor": "middle"], [.text(y)]),
        ]
    }

    /// "No data" in the middle of an empty plot.
    var emptyNote: Markup {
        .element("text", ["class": "empty", "x": ChartText.coordinate(left + plotWidth / 2), "y": ChartText.coordinate(top + plotHeight / 2),
                          "text-anchor": "middle"], [.text("No data for this selection")])
    }
}
