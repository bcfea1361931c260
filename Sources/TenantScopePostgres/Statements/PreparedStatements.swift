import Crypto
import Foundation
import Logging
import PostgresNIO
import Synchronization
import TenantScopeCore

/// Statements prepared once per pooled connection and then executed by name (architecture decision 55).
///
/// A report spent more of PostgreSQL's time parsing and planning its statement than running it (1.6 of 2.5 ms
/// for `completion_rate_by_course` at 100k statements); prepared, it is parsed, analysed and rewritten once per
/// connection. (Read-only transactions still plan every run for its values: ``ScopedDatabase``.) A plan holds no
/// tenant: row-level security's `app.current_tenant()` is part of it and is evaluated when it runs, under the
/// transaction's own signed context, so one prepared statement serves every tenant that uses the connection
/// (`PreparedStatementTests`).
///
/// PostgresNIO prepares a statement on a connection the first time it is executed there and remembers it per
/// connection, but only for statements that are types: the name and text of a `PostgresPreparedStatement` are
/// static. So each distinct text gets one of ``slotCount`` slots for the life of the process, a type built from
/// the slot's bits (``PreparedSlot``), whose text never changes once given. Its name is
/// `tenantscope_` and the first 32 hex digits of the text's SHA-256: the same name means the same text in every
/// server process, so a pooler that hands one process's server connection to another cannot make a name mean
/// another statement. Texts beyond the slots run unnamed.
///
/// PostgresNIO also remembers a failed preparation, and answers every later run of that name on that connection
/// with its error; its error does not say whether the preparation or the run failed, except by its code: one only a run
/// raises (``raisedByTheRun(_:)``: a refused batch, a tenant-gate refusal) means it was prepared. For any other, when a
/// statement's first run on a connection fails, its next run there first asks the server whether the statement exists
/// (`pg_prepared_statements`, the session's own): if it does, the preparation succeeded and the run failed (a
/// tenant-gate refusal during a move, a timeout) and it stays prepared; if not, it runs unnamed on that
/// connection from then on. Should that next run fail too, it runs unnamed as well: a preparation whose `Describe`
/// failed after its `Parse` succeeded would otherwise fail every run. One whose result type changed under it
/// (0A000, after a migration) runs unnamed at once; a failure after a successful run is the run's own and changes
/// nothing. A statement the server no longer knows (26000: a `DEALLOCATE` or `DISCARD` behind PostgresNIO's back)
/// means none of the connection's may be known: it runs everything unnamed from then on, and ``ScopedDatabase`` runs
/// the transaction that met it again where it may (``ScopedDatabase/ReadRetry``).
final class PreparedStatements: Sendable {
    static let shared = PreparedStatements()
    /// Slot numbers have this many bits (``PreparedSlot``): 256 slots, several times the catalog's texts.
    static let slotBits = 8
    static var slotCount: Int { 1 << slotBits }

    private struct Slots {
        var texts: [String] = []
        var names: [String] = []
        var slotOf: [String: Int] = [:]
    }

    /// What happened to the slots on one connection.
    private struct ConnectionSlots {
        /// Ran successfully here.
        var prepared: Set<Int> = []
        /// The first run here failed: the preparation or the run, which the server is asked before the next run.
        var undecided: Set<Int> = []
        /// The server had it after a failed first run; no run has succeeded since.
        var found: Set<Int> = []
        var unnamed: Set<Int> = []
        /// The server dropped statements PostgresNIO thinks are prepared.
        var forgotten = false

        func runsUnnamed(_ slot: Int) -> Bool { forgotten || unnamed.contains(slot) }
    }

    private let slots = Mutex(Slots())
    private let connections = PerConnection(initial: ConnectionSlots())

    private init() {}

    /// The text of `slot` (PostgresNIO reads it when it prepares the slot on a connection).
    func text(of slot: Int) -> String {
        slots.withLock { $0.texts[slot] }
    }

    /// The statement name of `slot`: the same for the same text in every process.
    func name(of slot: Int) -> String {
        slots.withLock { $0.names[slot] }
    }

    /// The slot of `sql`, given one the first time; nil when every slot is taken.
    func slot(for sql: String) -> Int? {
        slots.withLock { slots in
            if let slot = slots.slotOf[sql] { return slot }
            guard slots.texts.count < Self.slotCount else { return nil }
            slots.texts.append(sql)
            slots.names.append("tenantscope_" + Hex.encode(SHA256.hash(data: Data(sql.utf8)).prefix(16)))
            slots.slotOf[sql] = slots.texts.count - 1
            return slots.texts.count - 1
        }
    }

    /// The rows of `statement` on `connection`: prepared there by its slot, or unnamed (see the type's comment).
    func rows(_ statement: BoundStatement, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        guard statement.mayBePrepared, let slot = slot(for: statement.sql), !connections.read(connection, { $0.runsUnnamed(slot) }) else {
            return try await connection.query(statement.query, logger: logger).collect()
        }
        if connections.read(connection, { $0.undecided.contains(slot) }) {
            let found = try await connection.query(
                "SELECT EXISTS (SELECT 1 FROM pg_prepared_statements WHERE name = \(name(of: slot)))", logger: logger
            ).collect().first?.decode(Bool.self) ?? false
            connections.update(connection) { slots in
                slots.undecided.remove(slot)
                if found { slots.found.insert(slot) } else { slots.unnamed.insert(slot) }
            }
            if !found { return try await connection.query(statement.query, logger: logger).collect() }
        }
        do {
            let rows = try await rows(slot: slot, bindings: statement.bindings, on: connection, logger: logger)
            connections.update(connection) { slots in
                slots.prepared.insert(slot)
                slots.found.remove(slot)
            }
            return rows
        } catch {
            connections.update(connection) { slots in
                switch Self.sqlState(of: error) {
                case "26000": slots.forgotten = true
                case "0A000": slots.unnamed.insert(slot)
                case let state? where Self.raisedByTheRun(state):
                    // PostgresNIO prepares in an exchange of its own, so an error only a run raises means it was prepared.
                    slots.prepared.insert(slot)
                    slots.found.remove(slot)
                default:
                    if slots.prepared.contains(slot) { break }
                    if slots.found.remove(slot) != nil { slots.unnamed.insert(slot) } else { slots.undecided.insert(slot) }
                }
            }
            throw error
        }
    }

    /// Whether `statement` runs unnamed on `connection` after a failed preparation (for tests; false while the
    /// server has not yet been asked).
    func runsUnnamed(_ statement: BoundStatement, on connection: PostgresConnection) -> Bool {
        guard let slot = slots.withLock({ $0.slotOf[statement.sql] }) else { return true }
        return connections.read(connection) { $0.runsUnnamed(slot) }
    }

    /// Whether `error` is the server's "no such prepared statement" (26000): after it the connection runs everything
    /// unnamed, so a transaction that failed so may be run again there (``ScopedDatabase/ReadRetry``).
    static func serverForgotStatement(_ error: any Error) -> Bool {
        sqlState(of: error) == "26000"
    }

    /// Whether an error of `sqlState` can only come from running a statement, never from preparing it: an integrity
    /// violation, an error a PL/pgSQL function raised, or one of this project's own codes (a tenant-gate refusal, a
    /// refused batch). A client refusal on a connection's first run then costs the statement nothing. Not a data
    /// exception (parse analysis converts a text's literals), nor a timeout, deadlock or recovery conflict: a
    /// preparation waiting for a table's lock can meet those, and PostgresNIO would replay that failed preparation on
    /// every later run, so those go through the server's answer as before.
    static func raisedByTheRun(_ sqlState: String) -> Bool {
        ["23", "P0", "TS"].contains(String(sqlState.prefix(2)))
    }

    static func sqlState(of error: any Error) -> String? {
        guard let error = error as? PSQLError, error.code == .server else { return nil }
        return error.serverInfo?[.sqlState]
    }

    private func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, on connection: PostgresConnection, logger: Logger)
        async throws -> [PostgresRow] where Statement.Row == PostgresRow {
        var rows: [PostgresRow] = []
        for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }

    /// Runs slot `slot` as its own type: PostgresNIO takes a prepared statement's name and text from its type.
    /// The type is built from the slot's bits, highest first (`number` holds the bits taken so far).
    private func rows<Number: SlotNumber>(_ number: Number.Type, bitsLeft: Int, slot: Int, bindings: PostgresBindings,
                                          on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        guard bitsLeft > 0 else { return try await rows(PreparedSlot<Number>(bindings: bindings), on: connection, logger: logger) }
        return if (slot >> (bitsLeft - 1)) & 1 == 0 {
            try await rows(ZeroBit<Number>.self, bitsLeft: bitsLeft - 1, slot: slot, bindings: bindings, on: connection, logger: logger)
        } else {
            try await rows(OneBit<Number>.self, bitsLeft: bitsLeft - 1, slot: slot, bindings: bindings, on: connection, logger: logger)
        }
    }

    private func rows(slot: Int, bindings: PostgresBindings, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        try await rows(NoBits.self, bitsLeft: Self.slotBits, slot: slot, bindings: bindings, on: connection, logger: logger)
    }
}

/// A slot number as a type: the number's bits, each a generic type over the ones before it. Swift builds these
/// types at run time, so 2^``PreparedStatements/slotBits`` slots need three declarations, not one per slot.
protocol SlotNumber {
    static var number: Int { get }
}

enum NoBits: SlotNumber {
    static var number: Int { 0 }
}

enum ZeroBit<Higher: SlotNumber>: SlotNumber {
    static var number: Int { Higher.number << 1 }
}

enum OneBit<Higher: SlotNumber>: SlotNumber {
    static var number: Int { Higher.number << 1 | 1 }
}

/// One slot of ``PreparedStatements``: a prepared statement whose name and text are its slot's.
struct PreparedSlot<Number: SlotNumber>: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static var name: String { PreparedStatements.shared.name(of: Number.number) }
    static var sql: String { PreparedStatements.shared.text(of: Number.number) }

    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
