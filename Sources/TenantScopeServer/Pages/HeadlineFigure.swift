/// One of the big numbers above a page's charts: what it counts, the number, and over what.
struct HeadlineFigure: Sendable, Hashable {
    var label: String
    var value: String
    var note: String
}
