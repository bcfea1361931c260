import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Runs one tenant's ad-hoc SQL (the guarded SQL surface) as `tenantscope_sandbox` inside a tenant scope.
///
/// The query runs through ``ScopedDatabase`` (signed tenant context, row-level security) in a READ ONLY
/// transaction that then lowers itself: a temp-file limit, `work_mem`, `search_path = semantic`, and
/// `SET LOCAL ROLE tenantscope_sandbox`, which may read only the semantic layer and cannot call
/// `set_config` or become another role through SQL functions. Rows are read up to the cap.
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

        public init(statementTimeout: Duration = .seconds(5), workMem: String = "16MB", tempFileLimit: String = "64MB", rowCap: Int = 1000) {
            self.statementTimeout = statementTimeout
            self.workMem = workMem
            self.tempFileLimit = tempFileLimit
            self.rowCap = rowCap
        }
    }

    static let sandboxRole = "tenantscope_sandbox"
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
        let limitsSQL = [
            // Values are our own constants (digits and a unit), checked here, never request input.
            "SET LOCAL temp_file_limit = '\(try Self.setting(limits.tempFileLimit))'",
            "SET LOCAL work_mem = '\(try Self.setting(limits.workMem))'",
            "SET LOCAL search_path = semantic, pg_catalog, pg_temp",
            "SET LOCAL ROLE \(Self.sandboxRole)",
        ]
        let rowCap = max(limits.rowCap, 0)
        // The query runs as a subquery: whatever the text, PostgreSQL can only parse it as one SELECT. A utility
        // statement (SET ROLE, SET, COPY, EXPLAIN) or DML cannot stand there, so even with the parser guard off
        // nothing can change the session the pooled connection carries into its next transaction — a session-level
        // `SET ROLE` survives COMMIT (SECURITY.md). The LIMIT bounds the work as well as the rows.
        let statement = PostgresQuery(unsafeSQL: Self.executedText(sql, rowCap: rowCap))
        let (columns, rows, truncated) = try await sessions.run(scope, access: .readOnly, statementTimeout: limits.statementTimeout, logger: logger) { connection in
            for line in limitsSQL {
                try await connection.query(PostgresQuery(unsafeSQL: line))
            }
            do {
                let sequence = try await connection.query(statement)
                let columns = sequence.columns.map { SQLResult.Column(name: $0.name, type: Self.typeName($0.dataType)) }
                var rows: [[SQLValue]] = []
                var truncated = false
                for try await row in sequence {
                    if rows.count == rowCap {
                        truncated = true
                        break
                    }
                    rows.append(try row.makeRandomAccess().map(Self.value))
                }
                return (columns, rows, truncated)
            } catch let error as PSQLError where error.code == .server {
                throw SQLExecutionError(error, positionOffset: Self.prefix.count)
            }
        }
        let elapsed = ContinuousClock.now - start
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        return SQLResult(columns: columns, rows: rows, truncated: truncated, durationMilliseconds: milliseconds)
    }

    /// The text PostgreSQL runs for `sql`: what a custom report's preview shows.
    public static func executedText(_ sql: CheckedSQL, rowCap: Int) -> String {
        prefix + sql.text + "\n) AS q LIMIT \(max(rowCap, 0) + 1)"
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
    /// 400 asking for a cast to text, never a guess.
    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        do {
            switch cell.dataType {
            case .bool: return .bool(try cell.decode(Bool.self))
            case .int2, .int4, .int8: return .integer(try cell.decode(Int.self))
            case .float4, .float8: return .number(try cell.decode(Double.self))
            case .numeric:
                let decimal = try cell.decode(Decimal.self)
                return .number(NSDecimalNumber(decimal: decimal).doubleValue)
            case .text, .varchar, .bpchar, .name: return .text(try cell.decode(String.self))
            case .uuid: return .text(try cell.decode(UUID.self).uuidString.lowercased())
            case .date: return .text(ISO8601Timestamp.day(try cell.decode(Date.self)))
            case .timestamptz, .timestamp: return .text(ISO8601Timestamp.format(try cell.decode(Date.self)))
            default: break
            }
        } catch {
            throw SQLExecutionError(message: "column \(cell.columnName) could not be read; cast it to text", position: nil)
        }
        throw SQLExecutionError(message: "column \(cell.columnName) has type \(typeName(cell.dataType)), which the SQL surface does not return; cast it to text (\(cell.columnName)::text)", position: nil)
    }
}
