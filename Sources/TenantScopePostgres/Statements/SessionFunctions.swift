import Crypto
import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The functions this process makes in its logins' sessions (the tenant login's; the server login's for platform reports),
/// and the calls that run them: one round trip for what a scoped transaction takes four (architecture decisions 61 to
/// 63). ``ScopedReadFunctions`` makes those of single reading statements, ``ScopedWriteFunctions`` those of single writing
/// statements, ``StatementIngest`` and ``FeatureEventStore`` those of batches; all are built by
/// ``make(prefix:parameterTypes:returns:settings:body:)``.
/// This type keeps, per connection, which exist there and the session's `statement_timeout`, and decides when a
/// connection runs transactions instead.
///
/// A function call cannot lower `statement_timeout` for itself (PostgreSQL arms the timer as the statement starts), so
/// the session's value is set to the call's timeout when the connection first calls a function, and again whenever a
/// call asks for another. Scoped transactions set their own, transaction-local, over it.
///
/// A function or prepared statement the session no longer has (`DISCARD` behind our back: 42883 naming the function,
/// 26000) is created again and the call run once more: the failed call ran nothing, so a write is not repeated either.
/// Should that fail so too, or should the session not be allowed to create the function (no `TEMP` on the database,
/// 42501), the connection runs transactions from then on (``ScopedDatabase``). A 42883 raised inside a function's body is
/// that statement's own error.
final class SessionFunctions: Sendable {
    static let shared = SessionFunctions()

    /// A function: its name, the SQL that creates it, and the call that runs it.
    struct Function: Sendable {
        let name: String
        let definition: String
        /// The call, with the function's arguments as placeholders, the signed context last.
        let call: String
    }

    /// The dollar-quote tag of every function body; a statement that contains it cannot be put into one.
    static let bodyTag = "$tenantscope_fn$"

    private static let bodyTagBytes = Array(bodyTag.utf8)

    /// Whether `sql` can be the body of a function (its text cannot end the body early). Asked on every read, so the text
    /// is searched as UTF-8 bytes: Foundation's `contains` bridged a report's whole text to UTF-16 first, about 70 µs a
    /// request (3 % of the machine's samples under report load).
    static func canHold(_ sql: String) -> Bool {
        let tag = bodyTagBytes
        func holdsTag(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
            guard bytes.count >= tag.count else { return false }
            let lastStart = bytes.count - tag.count
            var from = 0
            while from <= lastStart, let start = bytes[from...lastStart].firstIndex(of: tag[0]) {
                if bytes[start..<start + tag.count].elementsEqual(tag) { return true }
                from = start + 1
            }
            return false
        }
        let found = sql.utf8.withContiguousStorageIfAvailable(holdsTag) ?? Array(sql.utf8).withUnsafeBufferPointer(holdsTag)
        return !found
    }

    /// A function of the session's temporary schema, named `prefix` and a digest of everything it is (so one name means
    /// one function in every process), taking `parameterTypes` and then the signed context as text, running `body` (a
    /// PL/pgSQL block) with `search_path`, `TimeZone` and `role` pinned and `settings` (more `SET` clauses). The call is
    /// `SELECT * FROM` the function, its arguments placeholders cast to their types.
    ///
    /// What the body sets ends in one of two ways. A setting a `SET` clause names is restored as the call returns, even
    /// inside a transaction the caller opened: the role the body takes is one (`SET role = NONE`: the call starts as the
    /// login and ends as it). The others the body sets with `set_config(..., true)` (the signed context, read-only mode)
    /// last until the end of the transaction, which for a call is the call itself: every call is sent as a statement of
    /// its own, outside any transaction. A clause cannot end the context too: a login may not name a custom setting in a
    /// `SET` clause without a grant on it. Should a call ever run inside a caller's transaction, the rest of that
    /// transaction runs as the login, which may read no tenant table (`ScopedReadFunctionTests`).
    static func make(prefix: String, parameterTypes: [String], returns: String, settings: String = "", body: String) -> Function {
        let signature = (parameterTypes + ["text"]).joined(separator: ", ")
        let clauses = #"SET search_path = pg_catalog, pg_temp SET "TimeZone" = 'UTC' SET role = NONE"#
            + (settings.isEmpty ? "" : " " + settings)
        let digest = SHA256.hash(data: Data((signature + "\n" + returns + "\n" + clauses + "\n" + body).utf8))
        let name = prefix + Hex.encode(digest.prefix(16))
        let definition = """
            CREATE OR REPLACE FUNCTION pg_temp.\(name)(\(signature)) RETURNS \(returns)
            LANGUAGE plpgsql \(clauses)
            AS \(bodyTag)
            \(body)
            \(bodyTag)
            """
        let arguments = (parameterTypes + ["text"]).enumerated().map { "($\($0.offset + 1)::\($0.element))" }
        return Function(name: name, definition: definition, call: "SELECT * FROM pg_temp.\(name)(\(arguments.joined(separator: ", ")))")
    }

    /// The first statement of every function body: the signed context (the last argument), the tenant gate (asked for
    /// a write or a read), and the tenant role, in that order; a read also turns on read-only mode. A platform read
    /// (`platform`, made by the server's own login) sets the context it is given (empty: no tenant), the platform role
    /// and read-only mode, as a platform transaction's first statement does.
    static func scope(contextArgument: Int, write: Bool, platform: Bool = false) -> String {
        if platform {
            precondition(!write, "the platform scope only reads")
            return """
                PERFORM set_config('app.tenant_ctx', $\(contextArgument), true), set_config('role', '\(ScopedDatabase.platformRole)', true),
                        set_config('transaction_read_only', 'on', true);
                """
        }
        return """
            PERFORM gate.tenant_gate(set_config('app.tenant_ctx', $\(contextArgument), true), \(write)),
                    set_config('role', '\(ScopedDatabase.tenantRole)', true)\(write ? "" : ",\n        set_config('transaction_read_only', 'on', true)");
            """
    }

    /// The most functions a session makes for texts that come in many variants (``BoundStatement/mayBePrepared`` false:
    /// the LRS statement query, one text per combination of its filters, hundreds in all). Each is a compiled function,
    /// its plans and a catalog row in the backend until the connection closes; past this many, such a text reads in a
    /// transaction on that connection, so no client can make every connection hold hundreds.
    static let maximumFunctionsOfManyTexts = 64

    private struct SessionState: Sendable {
        var created: Set<String> = []
        /// How many of `created` were made for texts of many variants.
        var createdOfManyTexts = 0
        var statementTimeout: String?
        /// The session lost its functions twice in a row, or may not create them: it runs scoped transactions.
        var runsTransactions = false
    }

    private let sessions = PerConnection(initial: SessionState())

    /// The rows of `call` (a call of `function`) on `connection`, in one round trip once the function exists there; nil
    /// when this connection runs transactions instead. `timeoutMilliseconds` bounds the call on the server.
    func rows(of call: BoundStatement, _ function: Function, timeoutMilliseconds: String, on connection: PostgresConnection,
              logger: Logger) async throws -> [PostgresRow]? {
        guard !runsTransactions(on: connection) else { return nil }
        for attempt in 1...2 {
            do {
                guard try await prepare(function, oneOfMany: !call.mayBePrepared, timeoutMilliseconds: timeoutMilliseconds, on: connection,
                                        logger: logger)
                else { return nil }
                return try await PreparedStatements.shared.rows(call, on: connection, logger: logger)
            } catch where Self.sessionLost(function, error) {
                let metadata: Logger.Metadata = ["db.sqlstate": "\(PreparedStatements.sqlState(of: error) ?? "")"]
                guard attempt == 1 else {
                    logger.notice("The session lost a session function again; this connection runs transactions", metadata: metadata)
                    sessions.update(connection) { $0.runsTransactions = true }
                    return nil
                }
                // The session dropped its temporary objects or prepared statements: nothing ran; make them again.
                logger.notice("The session had lost a session function; creating it again", metadata: metadata)
                sessions.update(connection) { $0 = SessionState() }
            }
        }
        return nil
    }

    /// Whether `connection` runs scoped transactions instead of calls.
    func runsTransactions(on connection: PostgresConnection) -> Bool {
        sessions.read(connection) { $0.runsTransactions }
    }

    /// Creates `function` on `connection` and sets the session's statement timeout, where not done yet. False when the
    /// session may not create functions: without `TEMP` on the database (42501) the connection runs transactions from
    /// then on; in a read-only session (25006: `default_transaction_read_only`, a standby, for a while) only this request
    /// does, and the next one tries again. Also false for a text of many variants (`oneOfMany`) once the session holds
    /// ``maximumFunctionsOfManyTexts`` of them: that request runs a transaction.
    private func prepare(_ function: Function, oneOfMany: Bool, timeoutMilliseconds: String, on connection: PostgresConnection,
                         logger: Logger) async throws -> Bool {
        let (created, ofManyTexts, timeout) = sessions.read(connection) {
            ($0.created.contains(function.name), $0.createdOfManyTexts, $0.statementTimeout)
        }
        if !created {
            if oneOfMany, ofManyTexts >= Self.maximumFunctionsOfManyTexts { return false }
            do {
                try await connection.query(PostgresQuery(unsafeSQL: function.definition), logger: logger)
            } catch where PreparedStatements.sqlState(of: error) == "25006" {
                logger.debug("The session is read-only; this request runs a transaction", metadata: ["db.sqlstate": "25006"])
                return false
            } catch where PreparedStatements.sqlState(of: error) == "42501" {
                logger.notice("This session may not create session functions; this connection runs transactions",
                              metadata: ["db.sqlstate": "42501"])
                sessions.update(connection) { $0.runsTransactions = true }
                return false
            }
            sessions.update(connection) { state in
                if state.created.insert(function.name).inserted, oneOfMany { state.createdOfManyTexts += 1 }
            }
        }
        if timeout != timeoutMilliseconds {
            _ = try await connection.query("SELECT set_config('statement_timeout', \(timeoutMilliseconds), false)", logger: logger).collect()
            sessions.update(connection) { $0.statementTimeout = timeoutMilliseconds }
        }
        return true
    }

    /// Whether the session no longer has what this process made there: `function` itself (42883 naming it; the same
    /// code raised inside the function's body is its statement's own error) or a prepared statement (26000).
    static func sessionLost(_ function: Function, _ error: any Error) -> Bool {
        switch PreparedStatements.sqlState(of: error) {
        case "26000": true
        case "42883": (error as? PSQLError)?.serverInfo?[.message]?.contains(function.name) == true
        default: false
        }
    }

    /// Whether `connection` has `function` (for tests).
    func isCreated(_ function: Function, on connection: PostgresConnection) -> Bool {
        sessions.read(connection) { $0.created.contains(function.name) }
    }
}
