import Foundation

/// How big chart text is, for layout: the page's CSS sets the sizes (``Charts/stylesheet``), and
/// the layout reserves room for the largest of them, so that labels never overlap at any width.
enum ChartText {
    /// Labels are 12 user units on wide screens and 18 on narrow ones, where a chart is drawn at
    /// about 0.6 of its size (still about 11 px on screen).
    static let largestSize = 18.0

    /// A generous average advance of a character of the sans-serif UI fonts, in user units.
    static let characterWidth = largestSize * 0.6

    static func width(_ text: String) -> Double {
        Double(text.count) * characterWidth
    }

    /// `text`, cut to `limit` characters with an ellipsis; nil when it already fits.
    static func shortened(_ text: String, to limit: Int) -> String? {
        guard text.count > limit else { return nil }
        return String(text.prefix(limit - 1)).trimmingCharacters(in: .whitespaces) + "…"
    }

    /// SVG coordinates with one decimal: plenty for a 560-unit drawing, and pages stay small.
    static func coordinate(_ value: Double) -> String {
        String(format: "%.1f", value)
    }
}
