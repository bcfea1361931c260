import TenantScopeCore
@testable import TenantScopePostgres

/// A scoped read-write transaction that runs `work`, then holds what it took (rows, advisory locks) until ``release()``
/// and rolls back: what a concurrent writer meets in the lock-order tests, at a moment the test chooses.
struct HeldTransaction: Sendable {
    struct RolledBack: Error {}

    private let task: Task<Void, any Error>
    private let releaseNow: AsyncStream<Void>.Continuation

    /// Starts the transaction and returns once `work` has run in it.
    static func start(on database: Database, _ scope: TenantScope,
                      _ work: @escaping @Sendable (ScopedConnection) async throws -> Void) async throws -> HeldTransaction {
        let (held, heldNow) = AsyncStream.makeStream(of: Void.self)
        let (release, releaseNow) = AsyncStream.makeStream(of: Void.self)
        let task = Task {
            try await database.sessions.run(scope, access: .readWrite, logger: TestDatabase.logger) { connection in
                try await work(connection)
                heldNow.yield()
                for await _ in release { break }
                throw RolledBack()
            }
        }
        for await _ in held { break }
        return HeldTransaction(task: task, releaseNow: releaseNow)
    }

    /// Rolls the transaction back and waits until it has ended; throws if it ended any other way.
    func release() async throws {
        releaseNow.yield()
        do {
            try await task.value
        } catch is RolledBack {
            return
        }
    }
}
