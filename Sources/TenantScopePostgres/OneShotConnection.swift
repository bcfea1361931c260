import Logging
import NIOPosix
import PostgresNIO

/// A single connection for set-up work (bootstrap, migrations), closed when the closure returns.
enum OneShotConnection {
    static func with<Result: Sendable>(
        _ endpoint: DatabaseEndpoint, logger: Logger,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let connection = try await PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.next(),
            configuration: endpoint.connectionConfiguration(), id: 1, logger: logger
        ).get()
        do {
            let result = try await body(connection)
            try? await connection.close()
            return result
        } catch {
            try? await connection.close()
            throw error
        }
    }
}
