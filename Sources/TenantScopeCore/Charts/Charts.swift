import Foundation

/// Server-rendered charts: inline SVG plus an accessible data table, no script, nothing from another
/// origin. Every chart has a title, axis labels, a text description for screen readers, and the same
/// numbers as a table; empty data renders an explicit "no data" state rather than an empty frame.
public enum Charts {
    public struct Point: Sendable, Hashable {
        public var label: String
        public var value: Double

        public init(_ label: String, _ value: Double) {
            self.label = label
            self.value = value
        }
    }

    static let width = 640.0
    static let height = 260.0
    static let left = 56.0
    static let right = 16.0
    static let top = 16.0
    static let bottom = 56.0

    /// A line over ordered points (a daily series).
    public static func line(id: String, title: String, xLabel: String, yLabel: String, points: [Point], summary: String? = nil) -> String {
        figure(id: id, title: title, xLabel: xLabel, yLabel: yLabel, points: points, summary: summary) { plot in
            guard !points.isEmpty else { return "" }
            let coordinates = points.indices.map { plot.x(index: $0, of: points.count, centered: false) }
            let path = zip(coordinates, points).enumerated().map { index, pair in
                "\(index == 0 ? "M" : "L")\(format(pair.0)),\(format(plot.y(pair.1.value)))"
            }.joined(separator: " ")
            let dots = zip(coordinates, points).map { x, point in
                "<circle class=\"dot\" cx=\"\(format(x))\" cy=\"\(format(plot.y(point.value)))\" r=\"2.5\"><title>\(escape(point.label)): \(number(point.value))</title></circle>"
            }.joined()
            return "<path class=\"series\" d=\"\(path)\" fill=\"none\"/>" + dots + plot.xTicks(points.map(\.label), centered: false)
        }
    }

    /// Vertical bars, one per labelled value (courses, histogram buckets).
    public static func bars(id: String, title: String, xLabel: String, yLabel: String, points: [Point], maximum: Double? = nil,
                            percent: Bool = false, summary: String? = nil) -> String {
        figure(id: id, title: title, xLabel: xLabel, yLabel: yLabel, points: points, maximum: maximum, percent: percent, summary: summary) { plot in
            guard !points.isEmpty else { return "" }
            let slot = plot.plotWidth / Double(points.count)
            let barWidth = max(2, slot * 0.7)
            let rects = points.enumerated().map { index, point in
                let x = plot.x(index: index, of: points.count, centered: true) - barWidth / 2
                let y = plot.y(point.value)
                return "<rect class=\"bar\" x=\"\(format(x))\" y=\"\(format(y))\" width=\"\(format(barWidth))\" height=\"\(format(max(0, plot.baseline - y)))\">"
                    + "<title>\(escape(point.label)): \(percent ? percentText(point.value) : number(point.value))</title></rect>"
            }.joined()
            return rects + plot.xTicks(points.map(\.label), centered: true)
        }
    }

    /// A table whose numeric cells are shaded by value (the cohort heat map). `heatColumns` names the
    /// columns (by index) to shade, each scaled to its own range.
    public static func heatTable(id: String, title: String, columns: [String], rows: [[String]], heat: [Int: [Double?]], summary: String) -> String {
        var html = "<figure class=\"chart\" id=\"\(escape(id))\" aria-labelledby=\"\(escape(id))-title\">"
        html += "<figcaption id=\"\(escape(id))-title\"><h2>\(escape(title))</h2><p class=\"summary\">\(escape(summary))</p></figcaption>"
        guard !rows.isEmpty else {
            return html + "<p class=\"empty\" role=\"status\">No data for this selection.</p></figure>"
        }
        html += "<table class=\"heat\"><thead><tr>" + columns.map { "<th scope=\"col\">\(escape($0))</th>" }.joined() + "</tr></thead><tbody>"
        for (rowIndex, row) in rows.enumerated() {
            html += "<tr>"
            for (column, cell) in row.enumerated() {
                if column == 0 {
                    html += "<th scope=\"row\">\(escape(cell))</th>"
                } else if let values = heat[column], let value = values[rowIndex] {
                    let finite = values.compactMap { $0 }
                    let (low, high) = (finite.min() ?? 0, finite.max() ?? 0)
                    let share = high > low ? (value - low) / (high - low) : 0.5
                    let lightness = 92 - Int((share * 45).rounded())
                    html += "<td style=\"background:hsl(210,70%,\(lightness)%)\(lightness < 65 ? ";color:#fff" : "")\">\(escape(cell))</td>"
                } else {
                    html += "<td>\(escape(cell))</td>"
                }
            }
            html += "</tr>"
        }
        return html + "</tbody></table></figure>"
    }

    // MARK: - Frame

    struct Plot {
        let maximum: Double
        var plotWidth: Double { width - left - right }
        var plotHeight: Double { height - top - bottom }
        var baseline: Double { top + plotHeight }

        func y(_ value: Double) -> Double { baseline - (maximum > 0 ? value / maximum : 0) * plotHeight }

        func x(index: Int, of count: Int, centered: Bool) -> Double {
            if centered || count == 1 { return left + plotWidth * (Double(index) + 0.5) / Double(count) }
            return left + plotWidth * Double(index) / Double(count - 1)
        }

        /// At most ~8 labels along the x axis, so long series stay readable.
        func xTicks(_ labels: [String], centered: Bool) -> String {
            let step = max(1, Int((Double(labels.count) / 8).rounded(.up)))
            return labels.enumerated().filter { $0.offset % step == 0 }.map { index, label in
                let x = self.x(index: index, of: labels.count, centered: centered)
                let short = label.count > 14 ? String(label.prefix(13)) + "…" : label
                // Labels at the ends of a line chart are anchored inwards so they are not clipped.
                let anchor = centered || labels.count == 1 ? "middle" : index == 0 ? "start" : index == labels.count - 1 ? "end" : "middle"
                return "<text class=\"tick\" x=\"\(format(x))\" y=\"\(format(baseline + 16))\" text-anchor=\"\(anchor)\">\(escape(short))</text>"
            }.joined()
        }
    }

    static func figure(
        id: String, title: String, xLabel: String, yLabel: String, points: [Point], maximum: Double? = nil, percent: Bool = false,
        summary: String?, body: (Plot) -> String
    ) -> String {
        let peak = maximum ?? niceMaximum(points.map(\.value).max() ?? 0)
        let plot = Plot(maximum: peak)
        let titleID = "\(id)-title"
        let descID = "\(id)-desc"
        let description = points.isEmpty
            ? "No data for this selection."
            : "\(points.count) values of \(yLabel.lowercased()) by \(xLabel.lowercased()), from \(valueText(points.map(\.value).min() ?? 0, percent)) to \(valueText(points.map(\.value).max() ?? 0, percent))."
        var svg = "<svg role=\"img\" aria-labelledby=\"\(escape(titleID)) \(escape(descID))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\" width=\"100%\" preserveAspectRatio=\"xMidYMid meet\">"
        svg += "<title id=\"\(escape(titleID))\">\(escape(title))</title><desc id=\"\(escape(descID))\">\(escape(description))</desc>"
        // Grid and y axis: five gridlines with values.
        for step in 0...4 {
            let value = peak * Double(step) / 4
            let y = plot.y(value)
            svg += "<line class=\"grid\" x1=\"\(format(left))\" x2=\"\(format(width - right))\" y1=\"\(format(y))\" y2=\"\(format(y))\"/>"
            svg += "<text class=\"tick\" x=\"\(format(left - 6))\" y=\"\(format(y + 4))\" text-anchor=\"end\">\(escape(valueText(value, percent)))</text>"
        }
        svg += "<line class=\"axis\" x1=\"\(format(left))\" x2=\"\(format(width - right))\" y1=\"\(format(plot.baseline))\" y2=\"\(format(plot.baseline))\"/>"
        svg += "<text class=\"axis-label\" x=\"\(format(left + plot.plotWidth / 2))\" y=\"\(format(height - 8))\" text-anchor=\"middle\">\(escape(xLabel))</text>"
        svg += "<text class=\"axis-label\" transform=\"translate(14 \(format(top + plot.plotHeight / 2))) rotate(-90)\" text-anchor=\"middle\">\(escape(yLabel))</text>"
        if points.isEmpty {
            svg += "<text class=\"empty\" x=\"\(format(left + plot.plotWidth / 2))\" y=\"\(format(top + plot.plotHeight / 2))\" text-anchor=\"middle\">No data for this selection</text>"
        } else {
            svg += body(plot)
        }
        svg += "</svg>"

        var table = "<details class=\"data\"><summary>Data table: \(escape(title))</summary><table><caption>\(escape(title))</caption>"
        table += "<thead><tr><th scope=\"col\">\(escape(xLabel))</th><th scope=\"col\">\(escape(yLabel))</th></tr></thead><tbody>"
        table += points.isEmpty
            ? "<tr><td colspan=\"2\">No data</td></tr>"
            : points.map { "<tr><th scope=\"row\">\(escape($0.label))</th><td>\(escape(valueText($0.value, percent)))</td></tr>" }.joined()
        table += "</tbody></table></details>"

        var html = "<figure class=\"chart\" id=\"\(escape(id))\">"
        html += "<figcaption><h2>\(escape(title))</h2>"
        if let summary { html += "<p class=\"summary\">\(escape(summary))</p>" }
        html += "</figcaption>" + svg + table + "</figure>"
        return html
    }

    // MARK: - Text

    /// A round upper bound for the y axis (1, 2 or 5 times a power of ten), so gridlines get tidy values.
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    static func valueText(_ value: Double, _ percent: Bool) -> String { percent ? percentText(value) : number(value) }

    static func number(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(format: "%.2f", value)
    }

    static func percentText(_ share: Double) -> String { String(format: "%.0f%%", share * 100) }

    static func format(_ value: Double) -> String { String(format: "%.1f", value) }

    /// Escapes text for HTML and SVG content and attribute values.
    public static func escape(_ text: String) -> String {
        var escaped = ""
        escaped.reserveCapacity(text.count)
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
