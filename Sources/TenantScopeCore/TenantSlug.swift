/// A tenant's short, URL-safe, human-chosen name (`acme`, `globex`).
///
/// Slugs are for operators (CLI, logs, platform pages); tenant scope itself is always a ``TenantID``.
public struct TenantSlug: Hashable, Sendable, Codable, CustomStringConvertible {
    public let rawValue: String

    /// Validates a slug: 2–63 characters, lower-case letters, digits and `-`, starting with a letter.
    public init(_ rawValue: String) throws(TenantScopeError) {
        guard LowercaseName.isValid(rawValue, lengths: 2...63) else {
            throw .invalidInput(
                "tenant slug '\(rawValue)' is invalid: use 2-63 lower-case letters, digits or '-', starting with a letter"
            )
        }
        self.rawValue = rawValue
    }

    public var description: String { rawValue }
}
