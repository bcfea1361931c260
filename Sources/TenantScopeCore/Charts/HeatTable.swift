/// A table whose numeric cells are shaded by value, each shaded column scaled to its own range
/// (the cohort heat map). Shading is an extra: every value is also written in its cell.
public struct HeatTable: Sendable {
    public struct Cell: Sendable, Hashable {
        public var text: String
        /// The number the shade stands for; nil leaves the cell plain.
        public var heat: Double?

        public init(_ text: String, heat: Double? = nil) {
            self.text = text
            self.heat = heat
        }
    }

    public struct Row: Sendable, Hashable {
        /// The row's first cell, its header (a cohort).
        public var header: String
        public var cells: [Cell]

        public init(header: String, cells: [Cell]) {
            self.header = header
            self.cells = cells
        }
    }

    public var caption: String
    /// Every column's title, the header column's first.
    public var columns: [String]
    public var rows: [Row]

    public init(caption: String, columns: [String], rows: [Row]) {
        self.caption = caption
        self.columns = columns
        self.rows = rows
    }

    public var markup: Markup {
        guard !rows.isEmpty else {
            return .element("p", ["class": "empty", "role": "status"], [.text("No data for this selection.")])
        }
        let columnCount = rows.map(\.cells.count).max() ?? 0
        let ranges: [ClosedRange<Double>?] = (0..<columnCount).map { column in
            let values = rows.compactMap { $0.cells.indices.contains(column) ? $0.cells[column].heat : nil }
            guard let low = values.min(), let high = values.max() else { return nil }
            return low...high
        }
        let body: [Markup] = rows.map { row in
            .element("tr", [:], [.element("th", ["scope": "row"], [.text(row.header)])] + row.cells.enumerated().map { column, cell in
                guard let value = cell.heat, let range = ranges[column] else { return .element("td", [:], [.text(cell.text)]) }
                let share = range.upperBound > range.lowerBound ? (value - range.lowerBound) / (range.upperBound - range.lowerBound) : 0.5
                return .element("td", ["style": HeatShade(share: share).style], [.text(cell.text)])
            })
        }
        // A scrollable region must be focusable (keyboard users scroll it) and named; "table" keeps its
        // name apart from the panel's, which a page usually names after the same caption.
        return .element("div", ["class": "table-scroll", "role": "region", "aria-label": "\(caption) table", "tabindex": "0"], [
            .element("table", ["class": "heat"], [
                .element("caption", ["class": "visually-hidden"], [.text(caption)]),
                .element("thead", [:], [.element("tr", [:], columns.map { .element("th", ["scope": "col"], [.text($0)]) })]),
                .element("tbody", [:], body),
            ]),
        ])
    }
}
