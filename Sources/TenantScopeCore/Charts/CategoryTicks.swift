/// The labels along a category axis (days, buckets): which to draw, how and where, so that none
/// overlap. Long labels are shortened and keep their full text in a `<title>` (a tooltip); when the
/// labels do not all fit, every n-th is drawn, counting back from the last (today, the latest bucket).
struct CategoryTicks {
    struct Tick {
        var index: Int
        var text: String
        /// The whole label when `text` is shortened.
        var full: String?
        var anchor: String
    }

    /// Labels longer than this many characters are shortened.
    static let longest = 16
    /// Space between two labels, in user units.
    static let gap = 10.0

    let ticks: [Tick]

    /// - Parameters:
    ///   - labels: one per category, in order.
    ///   - positions: the x of each category.
    ///   - bounds: where labels may extend to (the drawing's edges).
    init(labels: [String], positions: [Double], bounds: ClosedRange<Double>) {
        let texts = labels.map { ChartText.shortened($0, to: Self.longest) ?? $0 }
        let placed = labels.indices.map { Self.place(texts[$0], at: positions[$0], within: bounds) }
        var chosen: [Int] = []
        for step in 1...max(1, labels.count) {
            let indices = Array(stride(from: labels.count - 1, through: 0, by: -step))
            let overlaps = zip(indices, indices.dropFirst()).contains { right, left in
                placed[left].extent.upperBound + Self.gap > placed[right].extent.lowerBound
            }
            chosen = indices.reversed()
            if !overlaps { break }
        }
        ticks = chosen.map { index in
            Tick(index: index, text: texts[index], full: texts[index] == labels[index] ? nil : labels[index], anchor: placed[index].anchor)
        }
    }

    /// Centred under its point, unless that would cross an edge: then it is aligned to the edge's side.
    static func place(_ text: String, at x: Double, within bounds: ClosedRange<Double>) -> (anchor: String, extent: ClosedRange<Double>) {
        let width = ChartText.width(text)
        if x - width / 2 < bounds.lowerBound { return ("start", x...(x + width)) }
        if x + width / 2 > bounds.upperBound { return ("end", (x - width)...x) }
        return ("middle", (x - width / 2)...(x + width / 2))
    }

    /// The tick labels as SVG text, `y` being their baseline.
    func markup(positions: [Double], y: Double) -> [Markup] {
        ticks.map { tick in
            .element("text", ["class": "tick", "x": ChartText.coordinate(positions[tick.index]), "y": ChartText.coordinate(y),
                              "text-anchor": tick.anchor],
                     [.text(tick.text)] + (tick.full.map { [.element("title", [:], [.text($0)])] } ?? []))
        }
    }
}
