import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// A connection inside a scoped transaction. It offers queries only: no way to end the transaction
/// or to change its scope from inside.
public struct ScopedConnection: Sendable {
    public let scope: DataScope
    private let connection: PostgresConnection
    private let logger: Logger

    init(scope: DataScope, connection: PostgresConnection, logger: Logger) {
        self.scope = scope
        self.connection = connection
        self.logger = logger
    }

    /// Runs `query` for its rows. Read them: PostgreSQL sends an error raised while it produces them (a function's
    /// `RAISE`, a division by zero) after the row description, in the rows, so rows never read lose it (decision 98).
    /// A statement run for its effect goes through ``execute(_:file:line:)``.
    public func query(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws -> PostgresRowSequence {
        try await connection.query(query, logger: logger, file: file, line: line)
    }

    /// Runs `query` for its effect, reading whatever it returns, so that any error it raises is thrown here.
    public func execute(_ query: PostgresQuery, file: String = #fileID, line: Int = #line) async throws {
        _ = try await connection.query(query, logger: logger, file: file, line: line).collect()
    }

    /// Runs `statement` unnamed, its rows as PostgreSQL sends them (an export streams them on).
    func query(_ statement: BoundStatement) async throws -> PostgresRowSequence {
        try await connection.query(statement.query, logger: logger)
    }

    /// All rows of `statement`, prepared on this connection the first time it runs here (``PreparedStatements``).
    func rows(_ statement: BoundStatement) async throws -> [PostgresRow] {
        try await PreparedStatements.shared.rows(statement, on: connection, logger: logger)
    }
}
