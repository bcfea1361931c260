import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Runs one tenant's ad-hoc SQL (the guarded SQL surface) as `tenantscope_sandbox` inside a tenant scope.
///
/// The query runs through ``ScopedDatabase`` (signed tenant context, row-level security) in a READ ONLY
/// transaction whose first statement also lowers it (``ScopedDatabase/Sandbox``): a temp-file limit, `work_mem`,
/// `search_path = semantic`, and the role `tenantscope_sandbox`, which may read only the semantic layer and cannot
/// call `set_config` or become another role through SQL functions. Rows are read up to the cap.
///
/// Result caching belongs to the tenant-keyed result cache of the performance work: a cache would wrap
/// ``run(_:in:limits:logger:)`` keyed by tenant, principal attributes, the SQL's SHA-256 and the roll-up
/// watermark; nothing here caches.
public struct SQLSandbox: Sendable {
    public struct Limits: Sendable, Hashable {
        public var statementTimeout: Duration
        public var workMem: String
        public var tempFileLimit: String
        public var rowCap: Int
        /// The largest row PostgreSQL sends, as `pg_column_size` measures it (migration 56): a larger one is a 400.
        public var rowBytes: Int
        /// The bytes of an answer held in memory (``SQLSandbox/run(_:in:limits:logger:)``): reading stops at the row that
        /// passes it, and the answer is truncated there as at the row cap. A streamed answer (an export) has no such cap.
        public var answerBytes: Int

        public init(statementTimeout: Duration = .seconds(5), workMem: String = "16MB", tempFileLimit: String = "64MB", rowCap: Int = 1000,
                    rowBytes: Int = 1 << 20, answerBytes: Int = 16 << 20) {
            self.statementTimeout = statementTimeout
            self.workMem = workMem
            self.tempFileLimit = tempFileLimit
            self.rowCap = rowCap
            self.rowBytes = rowBytes
            self.answerBytes = answerBytes
        }
    }

    /// What precedes the caller's text; PostgreSQL's error positions are shifted back by its length.
    static let prefix = "SELECT * FROM (\n"

    private let sessions: ScopedDatabase

    public init(database: Database) {
        self.sessions = database.sessions
    }

    public init(sessions: ScopedDatabase) {
        self.sessions = sessions
    }

    /// Runs `sql` in `scope`; a query PostgreSQL refuses is a ``SQLExecutionError`` (HTTP 400) whose message
    /// names nothing beyond the semantic layer; an unavailable database stays ``DatabaseUnavailable``.
    public func run(_ sql: CheckedSQL, in scope: TenantScope, limits: Limits = Limits(), logger: Logger) async throws -> SQLResult {
        let start = ContinuousClock.now
        let collected = RowCollector()
        // Columns come first in every attempt: a read run again on the primary after a replica failed starts afresh.
        let (truncated, freshness) = try await streamRows(sql, in: scope, limits: limits, retry: .anywhere, answerBytes: limits.answerBytes,
                                                          logger: logger, columns: { collected.columns = $0; collected.rows = [] },
                                                          row: { collected.rows.append($0) })
        let elapsed = ContinuousClock.now - start
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return SQLResult(columns: collected.columns, rows: collected.rows, truncated: truncated, durationMilliseconds: milliseconds,
                         freshness: freshness)
    }

    /// Runs `sql` in `scope` like ``run(_:in:limits:logger:)`` but hands each row on as PostgreSQL streams
    /// it (an export of a custom report), up to `limits.rowCap`. Returns whether more rows were there.
    public func stream(
        _ sql: CheckedSQL, in scope: TenantScope, limits: Limits = Limits(), logger: Logger,
        columns: @escaping @Sendable ([SQLResult.Column]) async throws -> Void,
        row: @escaping @Sendable ([SQLValue]) async throws -> Void
    ) async throws -> Bool {
        try await streamRows(sql, in: scope, limits: limits, retry: .beforeBody, answerBytes: nil, logger: logger, columns: columns, row: row)
            .truncated
    }

    private func streamRows(
        _ sql: CheckedSQL, in scope: TenantScope, limits: Limits, retry: ScopedDatabase.ReadRetry, answerBytes: Int?, logger: Logger,
        columns: @escaping @Sendable ([SQLResult.Column]) async throws -> Void,
        row: @escaping @Sendable ([SQLValue]) async throws -> Void
    ) async throws -> (truncated: Bool, freshness: DataFreshness) {
        let rowCap = max(limits.rowCap, 0)
        // The query runs as a subquery: whatever the text, PostgreSQL can only parse it as one SELECT. A utility
        // statement (SET ROLE, SET, COPY, EXPLAIN) or DML cannot stand there, so even with the parser guard off
        // nothing can change the session the pooled connection carries into its next transaction — a session-level
        // `SET ROLE` survives COMMIT (SECURITY.md). The LIMIT bounds the work as well as the rows.
        let statement = PostgresQuery(unsafeSQL: Self.executedText(sql, rowCap: rowCap, rowBytes: limits.rowBytes))
        let (truncated, freshness) = try await sandboxed(scope, limits: limits, retry: retry, logger: logger) { connection in
            let sequence = try await connection.query(statement)
            try await columns(sequence.columns.map { SQLResult.Column(name: $0.name, type: Self.typeName($0.dataType)) })
            var count = 0
            var bytes = 0
            for try await next in sequence {
                if count == rowCap { return true }
                let values: [SQLValue] = try next.makeRandomAccess().map(Self.value)
                if let answerBytes {
                    // Counted as the JSON answer will hold them, not as they came: control characters escaped there take six
                    // bytes each (probe 37: a 16 MiB cap on the wire let through an answer several times that size).
                    for value in values { bytes += value.encodedJSONBytes + 1 }
                    // Past the answer's byte cap the rest is left unread, as past the row cap: what is held stays bounded.
                    if bytes > answerBytes, count > 0 { return true }
                }
                count += 1
                try await row(values)
            }
            return false
        }
        return (truncated, freshness)
    }

    /// PostgreSQL's plan for `sql` as the sandbox would run it (`EXPLAIN (VERBOSE, COSTS OFF)`, not executed), one
    /// line per element: the admin debug mode. The row-level security filter appears in it as PostgreSQL applies it.
    /// Costs and row estimates are left out: they come from statistics over every tenant's rows of a table, so
    /// they would tell one tenant roughly how much the others hold.
    public func explain(_ sql: CheckedSQL, in scope: TenantScope, limits: Limits = Limits(), logger: Logger) async throws -> [String] {
        let statement = PostgresQuery(unsafeSQL: "EXPLAIN (VERBOSE, COSTS OFF) " + Self.executedText(sql, rowCap: max(limits.rowCap, 0),
                                                                                                    rowBytes: limits.rowBytes))
        return try await sandboxed(scope, limits: limits, retry: .anywhere, logger: logger) { connection in
            var lines: [String] = []
            for try await line in try await connection.query(statement).decode(String.self) { lines.append(line) }
            return lines
        }.result
    }

    /// Opens the tenant's READ ONLY scoped transaction, lowers it to the sandbox (limits, search path, role),
    /// then runs `body`; PostgreSQL's refusal of the caller's text becomes a ``SQLExecutionError``.
    private func sandboxed<Value: Sendable>(
        _ scope: TenantScope, limits: Limits, retry: ScopedDatabase.ReadRetry, logger: Logger,
        _ body: @escaping @Sendable (ScopedConnection) async throws -> Value
    ) async throws -> (result: Value, freshness: DataFreshness) {
        // The limits, the search path and the role are set in the transaction's first statement (one round trip), after
        // the tenant scope and before anything else runs. Values are our own constants (digits and a unit), checked here.
        let sandbox = ScopedDatabase.Sandbox(workMem: try Self.setting(limits.workMem), tempFileLimit: try Self.setting(limits.tempFileLimit))
        return try await sessions.runPreferringReplica(.tenant(scope), statementTimeout: limits.statementTimeout, retry: retry,
                                                       sandbox: sandbox, logger: logger) { connection in
            do {
                return try await body(connection)
            } catch let error as PSQLError where error.code == .server && error.serverInfo?[.sqlState] != "40001" {
                // 40001 on a read replica is a conflict with recovery cancelling the query: the replica's
                // failure, not the caller's SQL, so it stays a PSQLError and the read moves to the primary.
                throw SQLExecutionError(error, positionOffset: Self.prefix.count)
            }
        }
    }

    /// The text PostgreSQL runs for `sql`: what a custom report's preview shows. Each row is measured before it is sent
    /// (`semantic.answer_row_fits`, migration 56): a row arrives whole, so the server's own byte cap cannot bound it.
    public static func executedText(_ sql: CheckedSQL, rowCap: Int, rowBytes: Int = Limits().rowBytes) -> String {
        prefix + sql.text + "\n) AS q WHERE semantic.answer_row_fits(pg_catalog.pg_column_size(q), \(max(rowBytes, 0))) LIMIT \(max(rowCap, 0) + 1)"
    }

    static func setting(_ value: String) throws -> String {
        guard !value.isEmpty, value.allSatisfy({ $0.isASCII && ($0.isNumber || $0.isLetter) }) else {
            throw TenantScopeError.environment("invalid sandbox limit '\(value)'")
        }
        return value
    }

    static func typeName(_ type: PostgresDataType) -> String {
        switch type {
        case .timestamptz: "TIMESTAMPTZ"
        case .timestamp: "TIMESTAMP"
        default: type.knownSQLName ?? "UNKNOWN"
        }
    }

    /// A cell as JSON can carry it. Types without a faithful JSON form (intervals, arrays, JSON, bytea) are a
    /// 400 asking for a cast to text, never a guess; so are values JSON has no form for: NaN, the infinities, a number
    /// beyond a double's range, and a date or time outside the years 1 to 9999 (`infinity` among them).
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard let bytes = cell.bytes else { return .null }
        let read: SQLValue?
        do {
            switch cell.dataType {
            case .bool: read = .bool(try cell.decode(Bool.self))
            case .int2, .int4, .int8: read = .integer(try cell.decode(Int.self))
            case .float4, .float8: read = try finite(cell.decode(Double.self), cell)
            case .numeric:
                // Never PostgresNIO's Decimal decoding: it traps on 1e200 and reads NaN as 0.
                let number = cell.format == .binary ? BinaryNumeric.double(bytes) : Double(String(buffer: bytes))
                read = try finite(number, cell)
            case .text, .varchar, .bpchar, .name: read = .text(try cell.decode(String.self))
            case .uuid: read = .text(try cell.decode(UUID.self).uuidString.lowercased())
            case .date: read = .text(ISO8601Timestamp.day(try inYears(cell.decode(Date.self), cell)))
            case .timestamptz, .timestamp: read = .text(ISO8601Timestamp.format(try inYears(cell.decode(Date.self), cell)))
            default: read = nil
            }
        } catch let refusal as SQLExecutionError {
            throw refusal
        } catch {
            throw SQLExecutionError(message: "column \(cell.columnName) could not be read; cast it to text", position: nil)
        }
        guard let read else {
            throw SQLExecutionError(message: "column \(cell.columnName) has type \(typeName(cell.dataType)), which the SQL surface does not return; cast it to text (\(cell.columnName)::text)", position: nil)
        }
        return read
    }

    /// `number` as JSON carries it; NaN, an infinity or nil (a numeric NaN or infinity) is refused.
    private static func finite(_ number: Double?, _ cell: PostgresCell) throws -> SQLValue {
        guard let number, number.isFinite else {
            throw SQLExecutionError(message: "column \(cell.columnName) holds NaN, an infinity or a number beyond a double's range, which JSON cannot carry; cast it to text (\(cell.columnName)::text)", position: nil)
        }
        return .number(number)
    }

    /// The instants ISO 8601's four-digit years can write: from 0001-01-01 to the end of 9999.
    static let writableInstants = Date(timeIntervalSince1970: -62_135_596_800)..<Date(timeIntervalSince1970: 253_402_300_800)

    /// `date` if its year has four digits; `infinity` and years past 9999 are refused (they are also what trapped the
    /// formatter).
    private static func inYears(_ date: Date, _ cell: PostgresCell) throws -> Date {
        guard writableInstants.contains(date) else {
            throw SQLExecutionError(message: "column \(cell.columnName) holds a date outside the years 1 to 9999 (or infinity); cast it to text (\(cell.columnName)::text)", position: nil)
        }
        return date
    }
}

/// The rows of ``SQLSandbox/run(_:in:limits:logger:)`` as they stream in; used by one reading task at a time.
private final class RowCollector: @unchecked Sendable {
    var columns: [SQLResult.Column] = []
    var rows: [[SQLValue]] = []
}
