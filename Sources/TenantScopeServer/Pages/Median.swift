/// The median of a distribution given as values with their counts (completions by whole days).
enum Median {
    /// The middle value, or the mean of the two middle values when the count is even; nil when empty.
    static func of(_ counts: [(value: Int, count: Int)]) -> Double? {
        let total = counts.reduce(0) { $0 + max(0, $1.count) }
        guard total > 0 else { return nil }
        let sorted = counts.filter { $0.count > 0 }.sorted { $0.value < $1.value }
        func value(at position: Int) -> Int {
            var seen = 0
            for entry in sorted {
                seen += entry.count
                if position < seen { return entry.value }
            }
            return sorted.last?.value ?? 0
        }
        return Double(value(at: (total - 1) / 2) + value(at: total / 2)) / 2
    }
}
