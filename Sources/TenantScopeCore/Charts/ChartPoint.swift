/// One value of a chart: a labelled number, with what the axis and the tooltip show of it.
public struct ChartPoint: Sendable, Hashable {
    /// The full label: the data table and the tooltip show it (a day `2026-11-24`, a course title).
    public var label: String
    public var value: Double
    /// A shorter label for the axis (`Nov 24`); nil uses `label`, shortened if it is long.
    public var tick: String?
    /// More for the tooltip (`1 of 2 enrollments completed`).
    public var detail: String?
    /// A value still growing (today so far): drawn dashed and said so, not read as a drop.
    public var isPartial: Bool

    public init(_ label: String, _ value: Double, tick: String? = nil, detail: String? = nil, isPartial: Bool = false) {
        self.label = label
        self.value = value
        self.tick = tick
        self.detail = detail
        self.isPartial = isPartial
    }
}

extension Charts {
    public typealias Point = ChartPoint
}
