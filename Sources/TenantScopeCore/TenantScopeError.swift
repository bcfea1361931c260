/// The domain errors of TenantScope.
///
/// A struct whose ``Kind`` is itself a struct over a private enum (the postgres-nio `PSQLError.Code`
/// pattern), so new kinds can be added without breaking callers that switch over them.
/// `description` is safe to show to a client: it never carries tenant data the caller did not send.
public struct TenantScopeError: Error, Hashable, Sendable, CustomStringConvertible {
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private enum Base: String, Hashable, Sendable {
            case invalidInput, notFound, forbidden, conflict, preconditionFailed, environment, gone
        }

        private let base: Base

        private init(_ base: Base) {
            self.base = base
        }

        /// The caller sent something malformed or out of range (HTTP 400).
        public static let invalidInput = Kind(.invalidInput)
        /// The thing asked for does not exist in the caller's scope (HTTP 404).
        public static let notFound = Kind(.notFound)
        /// The caller is authenticated but may not do this (HTTP 403).
        public static let forbidden = Kind(.forbidden)
        /// The request conflicts with existing state (HTTP 409).
        public static let conflict = Kind(.conflict)
        /// A conditional request's `If-Match`/`If-None-Match` does not hold (HTTP 412).
        public static let preconditionFailed = Kind(.preconditionFailed)
        /// The environment is not set up the way TenantScope needs (missing binaries, unreachable
        /// directories, a dependency that is down): HTTP 503.
        public static let environment = Kind(.environment)
        /// The thing existed but is no longer available: an expired or revoked download (HTTP 410).
        public static let gone = Kind(.gone)

        public var description: String { base.rawValue }
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
    public static func preconditionFailed(_ message: String) -> Self { .init(kind: .preconditionFailed, message: message) }
    public static func environment(_ message: String) -> Self { .init(kind: .environment, message: message) }
    public static func gone(_ message: String) -> Self { .init(kind: .gone, message: message) }

    public var description: String { message }
}
