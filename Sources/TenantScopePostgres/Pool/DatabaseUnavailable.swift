import PostgresNIO
import TenantScopeCore
import _ConnectionPoolModule

/// PostgreSQL could not be reached, did not answer within a use's deadline, or went away during it:
/// the request should be retried later (503 with `Retry-After`), and nothing it asked for happened
/// unless it was acknowledged.
public struct DatabaseUnavailable: Error, Hashable, Sendable, CustomStringConvertible {
    public let reason: String
    /// PostgreSQL's SQLSTATE when the server said why (57014 for a statement timeout), else nil.
    public let sqlState: String?

    public init(_ reason: String, sqlState: String? = nil) {
        self.reason = reason
        self.sqlState = sqlState
    }

    /// The statement ran out of its time on a live server: retrying it elsewhere would only double the work.
    public var isStatementTimeout: Bool { sqlState == "57014" }

    public var description: String { reason }

    /// `error` as the caller should see it: connection failures, a server shutting down, a use cut off
    /// at its deadline, a statement timeout or a pool that stopped trying to connect become
    /// ``DatabaseUnavailable``; everything else (a constraint the request broke, a domain error) passes
    /// through unchanged.
    static func classify(_ error: any Error, closedByDeadline: Bool) -> any Error {
        if error is DatabaseUnavailable { return error }
        if closedByDeadline { return DatabaseUnavailable("the database did not answer within the deadline") }
        if let error = error as? ConnectionPoolError, error == .connectionCreationCircuitBreakerTripped {
            // PostgresClient throws its pool's own error, not a PSQLError, once every connection attempt has failed
            // for a minute (its circuit breaker: each use then fails at once, until an attempt succeeds); its pool's
            // other errors it turns into PSQLErrors. Unclassified, a long outage answered 500 instead of 503.
            return DatabaseUnavailable("the database has refused connections for a while")
        }
        if let error = error as? PSQLError {
            switch error.code {
            case .connectionError, .serverClosedConnection, .clientClosedConnection, .uncleanShutdown, .messageDecodingFailure,
                 .unexpectedBackendMessage, .failedToAddSSLHandler, .poolClosed:
                return DatabaseUnavailable("the database connection failed")
            case .server:
                // 57014 statement timeout, 57P01-57P03 shutdown and crash recovery, 08xxx connection
                // exceptions, 53xxx insufficient resources: the dependency, not the request.
                let state = error.serverInfo?[.sqlState] ?? ""
                if state == "57014" || state.hasPrefix("57P") || state.hasPrefix("08") || state.hasPrefix("53") {
                    return DatabaseUnavailable("the database is unavailable (\(state))", sqlState: state)
                }
                return error
            default:
                return error
            }
        }
        return error
    }
}
