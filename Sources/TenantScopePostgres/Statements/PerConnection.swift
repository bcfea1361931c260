import NIOCore
import PostgresNIO
import Synchronization

/// What a process knows about each of its PostgreSQL connections (the statements prepared there, the functions
/// created there), forgotten when the connection closes. Keyed by the connection object and its id, so a new
/// connection that reuses a freed object's address starts with nothing known.
final class PerConnection<State: Sendable>: Sendable {
    private struct Key: Hashable {
        let object: ObjectIdentifier
        let id: PostgresConnection.ID

        init(_ connection: PostgresConnection) {
            object = ObjectIdentifier(connection)
            id = connection.id
        }
    }

    private let states = Mutex<[Key: State]>([:])
    private let initial: State

    init(initial: State) {
        self.initial = initial
    }

    /// Reads what is known of `connection` (`initial` when nothing is).
    func read<Result>(_ connection: PostgresConnection, _ body: (State) -> Result) -> Result {
        let key = Key(connection)
        return states.withLock { body($0[key] ?? initial) }
    }

    /// Changes what is known of `connection`; the first time, arranges for it to be forgotten when the connection closes.
    @discardableResult
    func update<Result>(_ connection: PostgresConnection, _ change: (inout State) -> Result) -> Result {
        let key = Key(connection)
        let (result, isNew) = states.withLock { states in
            let isNew = states[key] == nil
            return (change(&states[key, default: initial]), isNew)
        }
        if isNew {
            connection.closeFuture.whenComplete { [weak self] _ in
                self?.states.withLock { _ = $0.removeValue(forKey: key) }
            }
        }
        return result
    }
}
