import Foundation

/// One field of RFC 4180 CSV, as report downloads and exports write it.
public enum CSVField {
    /// Quotes the field when it holds a comma, a quote or a line break, and keeps a value that a
    /// spreadsheet would run as a formula (a leading `=`, `+`, `-` or `@` that is not a number) as text.
    public static func escape(_ value: String) -> String {
        var text = value
        if let first = text.first, "=+-@".contains(first), Double(text) == nil { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
