import Logging
import PostgresNIO
import Synchronization

/// Statements prepared once per pooled connection and then executed by name (architecture decision 55).
///
/// A served report spent more of PostgreSQL's time parsing and planning its statement than running it (1.6 of
/// 2.5 ms for `completion_rate_by_course` at 100k statements); prepared, it is parsed once per connection, and
/// after five runs PostgreSQL may keep a generic plan. A plan holds no tenant: row-level security's
/// `app.current_tenant()` is part of it and is evaluated when it runs, under the transaction's own signed
/// context, so one plan serves every tenant that uses the connection (`PreparedStatementTests`).
///
/// PostgresNIO prepares a statement on a connection the first time it is executed there and remembers it per
/// connection, but only for statements that are types: the name and text of a `PostgresPreparedStatement` are
/// static. So each distinct text gets one of ``slotCount`` slots for the life of the process (``PreparedSlot``,
/// named `tenantscope_<slot>`), and a slot's text never changes: a name prepared on any connection always means
/// the same statement. Texts beyond the slots run unnamed.
///
/// PostgresNIO also remembers a failed preparation, and answers every later run of that name on that connection
/// with its error. So a statement whose first run on a connection fails runs unnamed on that connection from
/// then on; a failure after a successful run is the run's own (a timeout, a refusal) and changes nothing. A
/// statement the server no longer knows (26000: a `DEALLOCATE` or `DISCARD` behind PostgresNIO's back) means
/// none of the connection's may be known: it runs everything unnamed from then on.
final class PreparedStatements: Sendable {
    static let shared = PreparedStatements()
    static let slotCount = 64

    private struct Slots {
        var texts: [String] = []
        var slotOf: [String: Int] = [:]
    }

    private struct ConnectionKey: Hashable {
        let object: ObjectIdentifier
        let id: PostgresConnection.ID
    }

    /// What happened to the slots on one connection.
    private struct ConnectionSlots {
        var prepared: Set<Int> = []
        var unnamed: Set<Int> = []
        /// The server dropped statements PostgresNIO thinks are prepared.
        var forgotten = false

        func runsUnnamed(_ slot: Int) -> Bool { forgotten || unnamed.contains(slot) }
    }

    private let slots = Mutex(Slots())
    private let connections = Mutex<[ConnectionKey: ConnectionSlots]>([:])

    /// The text of `slot` (PostgresNIO reads it when it prepares the slot on a connection).
    func text(of slot: Int) -> String {
        slots.withLock { $0.texts[slot] }
    }

    /// The slot of `sql`, given one the first time; nil when every slot is taken.
    func slot(for sql: String) -> Int? {
        slots.withLock { slots in
            if let slot = slots.slotOf[sql] { return slot }
            guard slots.texts.count < Self.slotCount else { return nil }
            slots.texts.append(sql)
            slots.slotOf[sql] = slots.texts.count - 1
            return slots.texts.count - 1
        }
    }

    /// The rows of `statement` on `connection`: prepared there by its slot, or unnamed (see the type's comment).
    func rows(_ statement: BoundStatement, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        let key = ConnectionKey(object: ObjectIdentifier(connection), id: connection.id)
        guard let slot = slot(for: statement.sql), !connections.withLock({ $0[key]?.runsUnnamed(slot) ?? false }) else {
            return try await connection.query(statement.query, logger: logger).collect()
        }
        do {
            let rows = try await rows(slot: slot, bindings: statement.bindings, on: connection, logger: logger)
            record(key, on: connection) { $0.prepared.insert(slot) }
            return rows
        } catch {
            record(key, on: connection) { slots in
                if Self.isUnknownStatement(error) { slots.forgotten = true }
                if !slots.prepared.contains(slot) { slots.unnamed.insert(slot) }
            }
            throw error
        }
    }

    /// Whether `statement` runs unnamed on `connection` after a failed preparation (for tests).
    func runsUnnamed(_ statement: BoundStatement, on connection: PostgresConnection) -> Bool {
        guard let slot = slots.withLock({ $0.slotOf[statement.sql] }) else { return true }
        return connections.withLock { $0[ConnectionKey(object: ObjectIdentifier(connection), id: connection.id)]?.runsUnnamed(slot) ?? false }
    }

    /// Updates what is known of `key`'s slots; the first time, arranges for it to be forgotten when the connection closes.
    private func record(_ key: ConnectionKey, on connection: PostgresConnection, _ change: (inout ConnectionSlots) -> Void) {
        let isNew = connections.withLock { connections in
            let isNew = connections[key] == nil
            change(&connections[key, default: ConnectionSlots()])
            return isNew
        }
        if isNew {
            connection.closeFuture.whenComplete { [weak self] _ in
                self?.connections.withLock { _ = $0.removeValue(forKey: key) }
            }
        }
    }

    private static func isUnknownStatement(_ error: any Error) -> Bool {
        guard let error = error as? PSQLError, error.code == .server else { return false }
        return error.serverInfo?[.sqlState] == "26000"
    }

    private func rows<Statement: PostgresPreparedStatement>(_ statement: Statement, on connection: PostgresConnection, logger: Logger)
        async throws -> [PostgresRow] where Statement.Row == PostgresRow {
        var rows: [PostgresRow] = []
        for try await row in try await connection.execute(statement, logger: logger) { rows.append(row) }
        return rows
    }

    /// Runs slot `slot` as its own type: PostgresNIO takes a prepared statement's name and text from its type.
    private func rows(slot: Int, bindings: PostgresBindings, on connection: PostgresConnection, logger: Logger) async throws -> [PostgresRow] {
        switch slot {
        case 0: try await rows(PreparedSlot<0>(bindings: bindings), on: connection, logger: logger)
        case 1: try await rows(PreparedSlot<1>(bindings: bindings), on: connection, logger: logger)
        case 2: try await rows(PreparedSlot<2>(bindings: bindings), on: connection, logger: logger)
        case 3: try await rows(PreparedSlot<3>(bindings: bindings), on: connection, logger: logger)
        case 4: try await rows(PreparedSlot<4>(bindings: bindings), on: connection, logger: logger)
        case 5: try await rows(PreparedSlot<5>(bindings: bindings), on: connection, logger: logger)
        case 6: try await rows(PreparedSlot<6>(bindings: bindings), on: connection, logger: logger)
        case 7: try await rows(PreparedSlot<7>(bindings: bindings), on: connection, logger: logger)
        case 8: try await rows(PreparedSlot<8>(bindings: bindings), on: connection, logger: logger)
        case 9: try await rows(PreparedSlot<9>(bindings: bindings), on: connection, logger: logger)
        case 10: try await rows(PreparedSlot<10>(bindings: bindings), on: connection, logger: logger)
        case 11: try await rows(PreparedSlot<11>(bindings: bindings), on: connection, logger: logger)
        case 12: try await rows(PreparedSlot<12>(bindings: bindings), on: connection, logger: logger)
        case 13: try await rows(PreparedSlot<13>(bindings: bindings), on: connection, logger: logger)
        case 14: try await rows(PreparedSlot<14>(bindings: bindings), on: connection, logger: logger)
        case 15: try await rows(PreparedSlot<15>(bindings: bindings), on: connection, logger: logger)
        case 16: try await rows(PreparedSlot<16>(bindings: bindings), on: connection, logger: logger)
        case 17: try await rows(PreparedSlot<17>(bindings: bindings), on: connection, logger: logger)
        case 18: try await rows(PreparedSlot<18>(bindings: bindings), on: connection, logger: logger)
        case 19: try await rows(PreparedSlot<19>(bindings: bindings), on: connection, logger: logger)
        case 20: try await rows(PreparedSlot<20>(bindings: bindings), on: connection, logger: logger)
        case 21: try await rows(PreparedSlot<21>(bindings: bindings), on: connection, logger: logger)
        case 22: try await rows(PreparedSlot<22>(bindings: bindings), on: connection, logger: logger)
        case 23: try await rows(PreparedSlot<23>(bindings: bindings), on: connection, logger: logger)
        case 24: try await rows(PreparedSlot<24>(bindings: bindings), on: connection, logger: logger)
        case 25: try await rows(PreparedSlot<25>(bindings: bindings), on: connection, logger: logger)
        case 26: try await rows(PreparedSlot<26>(bindings: bindings), on: connection, logger: logger)
        case 27: try await rows(PreparedSlot<27>(bindings: bindings), on: connection, logger: logger)
        case 28: try await rows(PreparedSlot<28>(bindings: bindings), on: connection, logger: logger)
        case 29: try await rows(PreparedSlot<29>(bindings: bindings), on: connection, logger: logger)
        case 30: try await rows(PreparedSlot<30>(bindings: bindings), on: connection, logger: logger)
        case 31: try await rows(PreparedSlot<31>(bindings: bindings), on: connection, logger: logger)
        case 32: try await rows(PreparedSlot<32>(bindings: bindings), on: connection, logger: logger)
        case 33: try await rows(PreparedSlot<33>(bindings: bindings), on: connection, logger: logger)
        case 34: try await rows(PreparedSlot<34>(bindings: bindings), on: connection, logger: logger)
        case 35: try await rows(PreparedSlot<35>(bindings: bindings), on: connection, logger: logger)
        case 36: try await rows(PreparedSlot<36>(bindings: bindings), on: connection, logger: logger)
        case 37: try await rows(PreparedSlot<37>(bindings: bindings), on: connection, logger: logger)
        case 38: try await rows(PreparedSlot<38>(bindings: bindings), on: connection, logger: logger)
        case 39: try await rows(PreparedSlot<39>(bindings: bindings), on: connection, logger: logger)
        case 40: try await rows(PreparedSlot<40>(bindings: bindings), on: connection, logger: logger)
        case 41: try await rows(PreparedSlot<41>(bindings: bindings), on: connection, logger: logger)
        case 42: try await rows(PreparedSlot<42>(bindings: bindings), on: connection, logger: logger)
        case 43: try await rows(PreparedSlot<43>(bindings: bindings), on: connection, logger: logger)
        case 44: try await rows(PreparedSlot<44>(bindings: bindings), on: connection, logger: logger)
        case 45: try await rows(PreparedSlot<45>(bindings: bindings), on: connection, logger: logger)
        case 46: try await rows(PreparedSlot<46>(bindings: bindings), on: connection, logger: logger)
        case 47: try await rows(PreparedSlot<47>(bindings: bindings), on: connection, logger: logger)
        case 48: try await rows(PreparedSlot<48>(bindings: bindings), on: connection, logger: logger)
        case 49: try await rows(PreparedSlot<49>(bindings: bindings), on: connection, logger: logger)
        case 50: try await rows(PreparedSlot<50>(bindings: bindings), on: connection, logger: logger)
        case 51: try await rows(PreparedSlot<51>(bindings: bindings), on: connection, logger: logger)
        case 52: try await rows(PreparedSlot<52>(bindings: bindings), on: connection, logger: logger)
        case 53: try await rows(PreparedSlot<53>(bindings: bindings), on: connection, logger: logger)
        case 54: try await rows(PreparedSlot<54>(bindings: bindings), on: connection, logger: logger)
        case 55: try await rows(PreparedSlot<55>(bindings: bindings), on: connection, logger: logger)
        case 56: try await rows(PreparedSlot<56>(bindings: bindings), on: connection, logger: logger)
        case 57: try await rows(PreparedSlot<57>(bindings: bindings), on: connection, logger: logger)
        case 58: try await rows(PreparedSlot<58>(bindings: bindings), on: connection, logger: logger)
        case 59: try await rows(PreparedSlot<59>(bindings: bindings), on: connection, logger: logger)
        case 60: try await rows(PreparedSlot<60>(bindings: bindings), on: connection, logger: logger)
        case 61: try await rows(PreparedSlot<61>(bindings: bindings), on: connection, logger: logger)
        case 62: try await rows(PreparedSlot<62>(bindings: bindings), on: connection, logger: logger)
        case 63: try await rows(PreparedSlot<63>(bindings: bindings), on: connection, logger: logger)
        default: preconditionFailure("no prepared statement slot \(slot)")
        }
    }
}

/// One slot of ``PreparedStatements``: a prepared statement whose text is the slot's.
struct PreparedSlot<let slot: Int>: PostgresPreparedStatement {
    typealias Row = PostgresRow

    static var name: String { "tenantscope_\(slot)" }
    static var sql: String { PreparedStatements.shared.text(of: slot) }

    let bindings: PostgresBindings

    func makeBindings() throws -> PostgresBindings { bindings }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}
