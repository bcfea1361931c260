/// The domain errors of TenantScope.
///
/// A struct over a private enum (the swift-nio pattern) so new kinds can be added without
/// breaking callers. `description` is safe to show to a client: it never carries tenant data
/// the caller did not send.
public struct TenantScopeError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: Hashable, Sendable {
        /// The caller sent something malformed or out of range (HTTP 400).
        case invalidInput
        /// The thing asked for does not exist in the caller's scope (HTTP 404).
        case notFound
        /// The caller is authenticated but may not do this (HTTP 403).
        case forbidden
        /// The request conflicts with existing state (HTTP 409).
        case conflict
        /// The environment is not set up the way TenantScope needs (missing binaries, unreachable directories).
        case environment
    }

    public let kind: Kind
    public let message: String

    private init(kind: Kind, message: String) {
        self.kind = kind
        self.message = message
    }

    public static func invalidInput(_ message: String) -> Self { .init(kind: .invalidInput, message: message) }
    public static func notFound(_ message: String) -> Self { .init(kind: .notFound, message: message) }
    public static func forbidden(_ message: String) -> Self { .init(kind: .forbidden, message: message) }
    public static func conflict(_ message: String) -> Self { .init(kind: .conflict, message: message) }
    public static func environment(_ message: String) -> Self { .init(kind: .environment, message: message) }

    public var description: String { message }
}
