/// The rule operator-chosen names share (tenant slugs, cluster names): lower-case ASCII letters, digits and
/// `-`, starting with a letter and not ending with `-`, so they are safe in URLs, logs and SQL identifiers alike.
enum LowercaseName {
    static func isValid(_ text: String, lengths: ClosedRange<Int>) -> Bool {
        let scalars = text.unicodeScalars
        guard lengths.contains(scalars.count), let first = scalars.first, ("a"..."z").contains(first), !text.hasSuffix("-") else { return false }
        return scalars.allSatisfy { ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" }
    }
}
