import Foundation

/// What must never reach another tenant: values that belong to the victim tenant only, looked for in
/// every response body, header and database result of the other tenant's attempts.
///
/// Matching ignores case, and a UUID is also looked for without its hyphens (32 hex digits), the other
/// common way of printing one.
public struct LeakScan: Sendable, Hashable {
    public struct Needle: Sendable, Hashable {
        /// Names the value in a finding (`A's canary`), never the value itself.
        public var label: String
        public var value: String

        public init(label: String, value: String) {
            self.label = label
            self.value = value
        }
    }

    public let needles: [Needle]
    private let forms: [(label: String, text: String)]

    public init(_ needles: [Needle]) {
        self.needles = needles
        var forms: [(String, String)] = []
        for needle in needles where !needle.value.isEmpty {
            let lower = needle.value.lowercased()
            forms.append((needle.label, lower))
            let bare = lower.replacingOccurrences(of: "-", with: "")
            if bare != lower, bare.count == 32, bare.allSatisfy(\.isHexDigit) { forms.append((needle.label, bare)) }
        }
        self.forms = forms
    }

    /// The labels of the needles found in `text` (each once, in the order the needles were given).
    public func found(in text: String) -> [String] {
        guard !text.isEmpty else { return [] }
        let lower = text.lowercased()
        var labels: [String] = []
        for (label, form) in forms where !labels.contains(label) && lower.contains(form) {
            labels.append(label)
        }
        return labels
    }

    public static func == (lhs: LeakScan, rhs: LeakScan) -> Bool { lhs.needles == rhs.needles }
    public func hash(into hasher: inout Hasher) { hasher.combine(needles) }
}
