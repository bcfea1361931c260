/// The answer format an `Accept` header asks for, between the two the report and SQL routes write: JSON (the
/// default) and CSV. RFC 9110 12.5.1: each media range may carry a weight `q` (0 to 1, 0 meaning "not this"); the most
/// specific range that matches a type gives its weight (`text/csv` over `text/*` over `*/*`). CSV is chosen when it
/// weighs more than JSON, or as much and is named first. Without a header, or when neither is acceptable, JSON.
/// (Probe 38: `text/csv;q=0` got CSV, and `application/json;q=0.1, text/csv` JSON.)
enum AcceptedFormat {
    static func prefersCSV(_ accept: String?) -> Bool {
        guard let accept else { return false }
        struct Range {
            var type: Substring
            var subtype: Substring
            var weight: Double
            var position: Int
        }
        var ranges: [Range] = []
        for (position, element) in accept.split(separator: ",").enumerated() {
            let parts = element.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
            guard let mediaRange = parts.first, case let halves = mediaRange.split(separator: "/"), halves.count == 2 else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)).map { min(max($0, 0), 1) } ?? 1
            }
            ranges.append(Range(type: halves[0], subtype: halves[1], weight: weight, position: position))
        }
        /// The weight of `type/subtype` and where its range stands: from the most specific matching range.
        func weight(_ type: String, _ subtype: String) -> (weight: Double, position: Int)? {
            let specificity: (Range) -> Int? = { range in
                if range.type == type && range.subtype == subtype { return 2 }
                if range.type == type && range.subtype == "*" { return 1 }
                if range.type == "*" && range.subtype == "*" { return 0 }
                return nil
            }
            guard let best = ranges.compactMap({ range in specificity(range).map { (range, $0) } }).max(by: { $0.1 < $1.1 })?.0 else { return nil }
            return (best.weight, best.position)
        }
        guard let csv = weight("text", "csv"), csv.weight > 0 else { return false }
        guard let json = weight("application", "json"), json.weight > 0 else { return true }
        return csv.weight > json.weight || (csv.weight == json.weight && csv.position < json.position)
    }
}
