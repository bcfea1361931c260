import Foundation

/// The value scale of a chart: from zero to a round maximum, with a few round tick values.
struct ValueAxis: Sendable {
    let maximum: Double
    let ticks: [Double]
    let format: ChartValueFormat

    init(values: [Double], maximum: Double? = nil, format: ChartValueFormat) {
        let top = maximum ?? Self.niceMaximum(values.max() ?? 0)
        self.maximum = top
        self.format = format
        let steps = Self.stepCount(top, wholeSteps: format == .count)
        ticks = (0...steps).map { top * Double($0) / Double(steps) }
    }

    /// Where `value` sits between zero (0) and the maximum (1).
    func fraction(_ value: Double) -> Double {
        maximum > 0 ? min(max(value / maximum, 0), 1) : 0
    }

    /// A round upper bound (1, 2 or 5 times a power of ten), so gridlines get tidy values.
    static func niceMaximum(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let magnitude = pow(10, floor(log10(value)))
        for factor in [1.0, 2, 5, 10] where factor * magnitude >= value { return factor * magnitude }
        return 10 * magnitude
    }

    /// Five, four, two or one steps: the first whose size is round (1, 2, 2.5 or 5 times a power of
    /// ten) and, for counts, whole, so that no gridline reads "2.5 learners".
    static func stepCount(_ maximum: Double, wholeSteps: Bool) -> Int {
        for count in [5, 4, 2] {
            let step = maximum / Double(count)
            let mantissa = step / pow(10, floor(log10(step)))
            let round = [1.0, 2, 2.5, 5, 10].contains { abs($0 - mantissa) < 1e-9 }
            if round && (!wholeSteps || step == step.rounded()) { return count }
        }
        return 1
    }

    /// The widest tick label, in characters, to size the margin that holds them.
    var widestTick: Int {
        ticks.map { format.text($0).count }.max() ?? 1
    }
}
