import Foundation

/// One field of RFC 4180 CSV, as report downloads and exports write it.
public enum CSVField {
    /// Quotes the field when it holds a comma, a quote or a line break, and keeps a value that a
    /// spreadsheet would run as a formula (a leading `=`, `+`, `-` or `@` that is not a number, or a leading
    /// tab or carriage return, which some spreadsheets skip before reading the formula: OWASP's list) as text.
    public static func escape(_ value: String) -> String {
        var text = value
        // Scalars, not characters: "\r\n" is one Character, which is neither "\r" nor "\n".
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first), Double(text) == nil { text = "'" + text }
        // Bytes, not characters, here too: a value holding "\r\n" went out unquoted and split its row in two.
        guard text.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == 0x0A || $0 == 0x0D }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
