/// Small, conservative readers of report SQL text: named placeholders and referenced `app.` tables.
///
/// They skip string literals, quoted identifiers and comments, so a `:word` inside a literal or a
/// `::cast` is not a placeholder. (Definitions are our own code; this is a guard, not a parser of
/// untrusted SQL.)
public enum SQLText {
    /// `:name` placeholders, in order of appearance (duplicates kept).
    public static func placeholders(_ sql: String) -> [String] {
        var found: [String] = []
        scan(sql) { chars, index in
            guard let end = placeholderEnd(chars, index) else { return nil }
            found.append(String(chars[(index + 1)..<end]))
            return end
        }
        return found
    }

    /// `sql` split at its `:name` placeholders (the same name shares one index, in order of first appearance), to
    /// render with whatever each placeholder becomes.
    public static func template(_ sql: String) -> SQLTemplate {
        var names: [String] = []
        var pieces: [String] = []
        var slots: [Int] = []
        let chars = Array(sql)
        var copied = 0
        scan(sql) { chars, index in
            guard let end = placeholderEnd(chars, index) else { return nil }
            let name = String(chars[(index + 1)..<end])
            slots.append(names.firstIndex(of: name) ?? { names.append(name); return names.count - 1 }())
            pieces.append(String(chars[copied..<index]))
            copied = end
            return end
        }
        pieces.append(String(chars[copied...]))
        return SQLTemplate(pieces: pieces, slots: slots, names: names)
    }

    /// Lower-cased names of tables referenced as `app.<name>` (quoted or not).
    public static func referencedTables(_ sql: String) -> Set<String> {
        let normalized = sql.lowercased().replacingOccurrences(of: "\"", with: "")
        var tables: Set<String> = []
        let chars = Array(normalized)
        var index = 0
        while index + 4 < chars.count {
            if chars[index...].starts(with: "app."), index == 0 || !isIdentifierPart(chars[index - 1]) {
                var end = index + 4
                while end < chars.count, isIdentifierPart(chars[end]) { end += 1 }
                tables.insert(String(chars[(index + 4)..<end]))
                index = end
            } else {
                index += 1
            }
        }
        return tables
    }

    /// The end of a `:name` placeholder starting at `index` (not a `::cast`), or nil.
    private static func placeholderEnd(_ chars: [Character], _ index: Int) -> Int? {
        guard chars[index] == ":", index + 1 < chars.count, isIdentifierStart(chars[index + 1]),
              index == 0 || chars[index - 1] != ":"
        else { return nil }
        var end = index + 1
        while end < chars.count, isIdentifierPart(chars[end]) { end += 1 }
        return end
    }

    /// Walks `sql` outside literals, identifiers in double quotes and comments; `visit` may consume a token.
    private static func scan(_ sql: String, visit: ([Character], Int) -> Int?) {
        let chars = Array(sql)
        var index = 0
        while index < chars.count {
            let c = chars[index]
            if c == "'" || c == "\"" {
                index += 1
                while index < chars.count {
                    if chars[index] == c {
                        if index + 1 < chars.count, chars[index + 1] == c { index += 2; continue }
                        break
                    }
                    index += 1
                }
                index += 1
            } else if c == "-", index + 1 < chars.count, chars[index + 1] == "-" {
                while index < chars.count, chars[index] != "\n" { index += 1 }
            } else if let next = visit(chars, index) {
                index = next
            } else {
                index += 1
            }
        }
    }

    private static func isIdentifierStart(_ c: Character) -> Bool { c.isLetter || c == "_" }
    private static func isIdentifierPart(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
}

/// SQL text split at its named placeholders (``SQLText/template(_:)``).
public struct SQLTemplate: Sendable, Hashable {
    /// The text around the placeholders: one more piece than there are placeholders.
    public let pieces: [String]
    /// For each placeholder in order of appearance, the index of its name in ``names``.
    public let slots: [Int]
    /// The distinct names, in order of first appearance (bind order).
    public let names: [String]

    /// The text with each placeholder replaced by `placeholder(index of its name)`.
    public func rendered(_ placeholder: (Int) -> String) -> String {
        var output = pieces[0]
        for (slot, piece) in zip(slots, pieces.dropFirst()) {
            output += placeholder(slot)
            output += piece
        }
        return output
    }
}
