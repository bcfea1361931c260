import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The Learning Record Store's storage: writes statement batches and answers statement queries, always
/// inside a tenant-scoped transaction of the one session helper (the tenant is the credential's).
///
/// A batch is one transaction: it inserts every new statement with one multi-row `INSERT`, refuses the
/// whole batch when a stored statement with the same id differs (409), applies voiding, and queues the
/// touched actors for derivation (`app.learning_facts_queue`) before it commits. It is one call of a session
/// function where it can be (``StatementIngest``, architecture decision 62), a scoped transaction otherwise. Learners, courses,
/// enrollments and the daily roll-ups follow through the roll-up service, within one of its intervals, or as soon as
/// ingest pauses (``RollupWakeup``).
public struct StatementStore: Sendable {
    let sessions: ScopedDatabase
    /// Seals the `more` cursors of statement pages.
    public let cursors: StatementCursorSigner
    /// Told of every batch that stored something, after it committed.
    let wakeup: RollupWakeup

    /// A stored statement as served: its JSON text and `stored` (UTC, microseconds, as PostgreSQL prints it).
    public struct StoredStatement: Sendable, Hashable {
        public var id: UUID
        public var json: String
        public var stored: String
    }

    public struct Page: Sendable {
        public var statements: [StoredStatement]
        /// The filter of the next page (positioned after this one), or nil on the last one.
        public var next: StatementFilter?
    }

    public struct StoreOutcome: Sendable, Hashable {
        /// The ids of the batch, in order (new and already-stored alike).
        public var ids: [UUID]
        /// How many were new.
        public var stored: Int
    }

    // MARK: - Writing

    /// The content of the statements' attachments (multipart requests).
    public var attachments: AttachmentStore { AttachmentStore(sessions: sessions) }

    /// Stores a batch and the content of its attachments (`attachments`, already matched to the batch by
    /// ``StatementAttachments``) in one transaction: all of it or none.
    ///
    /// It is one call of the session function ``StatementIngest/function`` (one round trip, architecture decision 62),
    /// which runs what the scoped transaction below runs and raises where it throws; where the helper or the connection
    /// runs transactions (``SessionFunctions``), it is that transaction: the attachments, the insert, the conflict check,
    /// the voiding, in four or more round trips.
    public func store(
        _ batch: [PreparedStatement], attachments: [AttachmentContent] = [], in scope: TenantScope, logger: Logger
    ) async throws -> StoreOutcome {
        guard !batch.isEmpty else {
            return try await sessions.run(scope, access: .readWrite, logger: logger, Self.inTransaction(batch, attachments: attachments))
        }
        let outcome = try await storeByCall(batch, attachments: attachments, in: scope, on: nil, logger: logger)
        if outcome.stored > 0 {
            wakeup.noteQueued()
        }
        return outcome
    }

    /// Stores `batch` and `attachments` as one call of ``StatementIngest/function`` on `connection` (a test's), or on one
    /// of the pool's.
    func storeByCall(_ batch: [PreparedStatement], attachments: [AttachmentContent] = [], in scope: TenantScope,
                     on connection: PostgresConnection?, logger: Logger) async throws -> StoreOutcome {
        let values = StatementIngest.values(batch, queueingDerivation: true, storedInTransaction: true)
            + StatementIngest.attachmentValues(attachments)
        let decode: @Sendable ([PostgresRow]) throws -> StoreOutcome = { rows in
            StoreOutcome(ids: batch.map(\.id), stored: try rows.first?.decode([UUID].self).count ?? 0)
        }
        do {
            if let connection {
                return try await sessions.write(scope, calling: StatementIngest.function, values: values, decode: decode,
                                                orInTransaction: Self.inTransaction(batch, attachments: attachments), on: connection,
                                                logger: logger)
            }
            return try await sessions.write(scope, calling: StatementIngest.function, values: values, decode: decode,
                                            orInTransaction: Self.inTransaction(batch, attachments: attachments), logger: logger)
        } catch {
            throw StatementIngest.refusal(error, batch: batch) ?? error
        }
    }

    /// Stores `batch` and `attachments` in the scoped transaction of `connection`: the attachments' content, the insert,
    /// the conflict check where a statement was not new, the voiding.
    static func inTransaction(_ batch: [PreparedStatement], attachments: [AttachmentContent] = [])
        -> @Sendable (ScopedConnection) async throws -> StoreOutcome {
        { connection in
            try await AttachmentStore.insert(attachments, on: connection)
            let inserted = try await insert(batch, queueingDerivation: true, storedInTransaction: true, on: connection)
            if inserted.count < batch.count {
                try await refuseConflicts(batch, inserted: inserted, on: connection)
            }
            let newStatements = batch.filter { inserted.contains($0.id) }
            try await applyVoiding(newStatements, on: connection)
            return StoreOutcome(ids: batch.map(\.id), stored: newStatements.count)
        }
    }

    /// Inserts statements whose id is new for the tenant; returns the ids that were inserted. One round
    /// trip for the common batch: the statement that inserts also marks a statement voided when an
    /// earlier voiding statement already names it, and (`queueingDerivation`) queues the new statements'
    /// actors for the roll-up service to derive (`app.learning_facts_queue`, architecture decision 18, with
    /// the earliest `stored` of each one's new statements, where derivation starts reading) and
    /// how many counted statements each actor gained on each day (`app.rollup_queue`, decisions 32 and 54),
    /// which the service adds to the learner-day roll-ups without reading the statements again: one row for
    /// the batch's actors and one per day for its counts, as arrays (decision 65). The queue
    /// rows commit or roll back with the statements, so nothing ingested is ever missed or counted twice.
    /// The text is ``StatementIngest/insertStatements``, which the session function runs too. Rows go in in id order, so
    /// two batches that share ids wait for each other in one order instead of deadlocking (`IngestLockOrderTests`).
    ///
    /// With `storedInTransaction`, `stored` is the database's clock inside this transaction (one
    /// microsecond apart, in batch order), written into both the column and the statement's JSON, and
    /// into `timestamp` too where the sender gave none: a batch that waited for a connection can never
    /// commit with a `stored` older than the roll-up service's look-back. Without it (demo data, which
    /// spreads history over months), the prepared `stored` is kept.
    ///
    /// `tenant_id` is never passed: it is the transaction's verified context, as the column default would
    /// stamp it, but read once per batch and table (an uncorrelated sub-select) instead of once per row.
    /// The default checked the context's HMAC on every row until migration 46; it now reads the context's
    /// claim unchecked (2–3 µs a row, decision 79), so the sub-select still saves that. The policy's WITH
    /// CHECK checks every row either way.
    static func insert(
        _ batch: [PreparedStatement], queueingDerivation: Bool, storedInTransaction: Bool = false, on connection: ScopedConnection
    ) async throws -> Set<UUID> {
        guard !batch.isEmpty else { return [] }
        let statement = BoundStatement(
            sql: StatementIngest.insertStatements + "\nSELECT id FROM inserted",
            values: StatementIngest.values(batch, queueingDerivation: queueingDerivation, storedInTransaction: storedInTransaction))
        var ids = Set<UUID>()
        for try await id in try await connection.query(statement).decode(UUID.self) { ids.insert(id) }
        return ids
    }

    /// xAPI: re-sending a stored statement is fine; sending a different one under a stored id is a 409.
    /// The properties the LRS fills in (`stored`, `authority`, `version`, and `timestamp` when the sender
    /// gave none) do not count as differences.
    static func refuseConflicts(_ batch: [PreparedStatement], inserted: Set<UUID>, on connection: ScopedConnection) async throws {
        let resent = batch.enumerated().filter { !inserted.contains($0.element.id) }
        let statement = BoundStatement(sql: StatementIngest.firstConflict, values: [
            .integerArray(resent.map(\.offset)), .uuidArray(resent.map(\.element.id)), .textArray(resent.map(\.element.json)),
            .booleanArray(resent.map(\.element.senderGaveTimestamp)),
        ])
        if let position = try await connection.query(statement).collect().first?.decode(Int.self) {
            throw StatementIngest.conflict(at: position, in: batch)
        }
    }

    /// Marks the targets of new voiding statements voided (in this tenant only: row-level security hides
    /// every other tenant's statements, so a foreign id voids nothing), queues their actors for a full
    /// derivation (a voided statement's contribution cannot be merged away, decision 36) and takes the
    /// voided statements off their learner days (a negative delta, decision 54), refusing to void a voiding
    /// statement. The deltas come from the rows the `UPDATE` changed, so each voided statement counts once.
    static func applyVoiding(_ statements: [PreparedStatement], on connection: ScopedConnection) async throws {
        let targets = statements.compactMap(\.facts.voidedStatementID)
        guard !targets.isEmpty else { return }
        try await connection.execute(BoundStatement(sql: StatementIngest.lockVoidingIDs,
                                                    values: [.uuidArray(targets + statements.filter(\.facts.isVoiding).map(\.id))]).query)
        let refused = try await connection.query("""
            SELECT id FROM app.statements WHERE id = ANY (\(targets)) AND voids IS NOT NULL LIMIT 1
            """).collect().first?.decode(UUID.self)
        if let refused {
            throw StatementIngest.voidsVoiding(refused.uuidString)
        }
        // A target stored by a transaction still running is missed here; the next roll-up pass voids it (migration 33).
        try await connection.execute("SELECT app.void_statements(\(targets))")
    }

    // MARK: - Reading

    static let storedText = #"to_char(s.stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#

    /// One statement by id: a statement that is not voided, or (`voided: true`) one that is. On the primary (the LRS
    /// reads its own writes), as one call of the text's read function where it can be (architecture decision 61).
    public func statement(id: UUID, voided: Bool, in scope: TenantScope, logger: Logger) async throws -> StoredStatement? {
        let rows = try await sessions.readRows(scope, Self.statement(id: id, voided: voided), columnTypes: Self.columnTypes,
                                               replicas: false, logger: logger).rows
        return try Self.storedStatements(rows).first
    }

    static func statement(id: UUID, voided: Bool) -> BoundStatement {
        BoundStatement(sql: """
            SELECT s.id, s.statement::text, \(storedText) FROM app.statements s WHERE s.id = ($1::uuid) AND s.voided = ($2::boolean)
            """, values: [.uuid(id), .boolean(voided)])
    }

    /// What a statement read returns: the id, the JSON text and `stored` as text.
    static let columnTypes = ["uuid", "text", "text"]

    static func storedStatements(_ rows: [PostgresRow]) throws -> [StoredStatement] {
        try rows.map { row in
            let (id, json, stored) = try row.decode((UUID, String, String).self)
            return StoredStatement(id: id, json: json, stored: stored)
        }
    }

    /// One page of a statement query, newest first unless `ascending`; voided statements never appear.
    ///
    /// The filters (agent, verb, activity, registration) also select statements whose object is a
    /// StatementRef to a statement they match, voided or not (xAPI 1.0.3 Communication 2.1.3, XAPI-00162):
    /// a second branch finds the matching targets through their indexes and the references to them
    /// through `(tenant_id, object_id)`. Each branch is ordered and limited before the two are merged,
    /// so a page still reads at most `limit + 1` rows from each.
    public func page(_ filter: StatementFilter, in scope: TenantScope, logger: Logger) async throws -> Page {
        let rows = try await sessions.readRows(scope, Self.page(filter), columnTypes: Self.columnTypes, replicas: false, logger: logger).rows
        var statements = try Self.storedStatements(rows)
        var next: StatementFilter?
        if statements.count > filter.limit {
            statements.removeLast()
            next = statements.last.map { filter.continuing(afterStored: $0.stored, id: $0.id) }
        }
        return Page(statements: statements, next: next)
    }

    /// The statement that reads a page for `filter`: at most `limit + 1` statements, the last one telling whether
    /// there is a next page.
    static func page(_ filter: StatementFilter) -> BoundStatement {
        var values: [BoundStatement.Value] = []
        func bind(_ value: BoundStatement.Value) -> String {
            values.append(value)
            return "($\(values.count)::\(value.cast))"
        }
        func bind(_ text: String) -> String { bind(.text(text)) }
        func bind(_ id: UUID) -> String { bind(.uuid(id)) }
        let agentKey = filter.agentKey.map(bind)
        let agentIdentifier = filter.relatedAgents ? filter.agentIdentifier.map { bind($0) + "::jsonb" } : nil
        let verb = filter.verb.map(bind)
        let activity = filter.activity.map(bind)
        let registration = filter.registration.map(bind)
        /// What the filters ask of statement `a` itself.
        func matches(_ a: String) -> [String] {
            var conditions: [String] = []
            if let agentKey {
                var alternatives = ["\(a).actor_key = \(agentKey)", "\(a).object_id = \(agentKey)"]
                if let ifi = agentIdentifier {
                    alternatives += [
                        "\(a).statement->'authority' @> \(ifi)",
                        "\(a).statement->'context'->'instructor' @> \(ifi)",
                        "\(a).statement->'context'->'team' @> \(ifi)",
                        "\(a).statement->'actor'->'member' @> jsonb_build_array(\(ifi))",
                        "\(a).statement->'object'->'actor' @> \(ifi)",
                        "\(a).statement->'object'->'object' @> \(ifi)",
                        "\(a).statement->'object'->'context'->'instructor' @> \(ifi)",
                    ]
                }
                conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
            }
            if let verb { conditions.append("\(a).verb_id = \(verb)") }
            if let activity {
                var alternatives = ["\(a).object_id = \(activity)"]
                if filter.relatedActivities {
                    let vars = "jsonb_build_object('a', \(activity)::text)"
                    alternatives += [
                        "jsonb_path_exists(\(a).statement, 'lax $.context.contextActivities.*.id ? (@ == $a)', \(vars))",
                        "jsonb_path_exists(\(a).statement, 'lax $.object.object.id ? (@ == $a)', \(vars))",
                        "jsonb_path_exists(\(a).statement, 'lax $.object.context.contextActivities.*.id ? (@ == $a)', \(vars))",
                    ]
                }
                conditions.append("(" + alternatives.joined(separator: " OR ") + ")")
            }
            if let registration { conditions.append("\(a).registration = \(registration)") }
            return conditions
        }
        // Which statements may appear at all: not voided, in the time window, after the cursor.
        var window = ["NOT s.voided"]
        if let since = filter.since { window.append("s.stored > \(bind(since))::timestamptz") }
        if let until = filter.until { window.append("s.stored <= \(bind(until))::timestamptz") }
        let direction = filter.ascending ? "ASC" : "DESC"
        if let afterStored = filter.afterStored, let afterID = filter.afterID {
            window.append("(s.stored, s.id) \(filter.ascending ? ">" : "<") (\(bind(afterStored))::timestamptz, \(bind(afterID)))")
        }
        // Bound, not written into the text: one text (and one read function) for every limit a client asks for.
        let limit = bind(.integer(filter.limit + 1))
        let order = "ORDER BY stored \(direction), id \(direction) LIMIT \(limit)"
        let direct = """
            SELECT s.id, s.statement::text AS statement, s.stored FROM app.statements s
            WHERE \((window + matches("s")).joined(separator: " AND "))
            ORDER BY s.stored \(direction), s.id \(direction) LIMIT \(limit)
            """
        let sql: String
        if matches("t").isEmpty {
            sql = direct
        } else {
            sql = """
                SELECT id, statement, stored FROM (
                  (\(direct))
                  UNION
                  (SELECT s.id, s.statement::text, s.stored
                   FROM app.statements t JOIN app.statements s ON s.object_id IN (t.id::text, upper(t.id::text))
                   WHERE \(matches("t").joined(separator: " AND "))
                     AND s.statement->'object'->>'objectType' = 'StatementRef' AND \(window.joined(separator: " AND "))
                   ORDER BY s.stored \(direction), s.id \(direction) LIMIT \(limit))
                ) page \(order)
                """
        }
        var statement = BoundStatement(sql: """
            SELECT p.id, p.statement, \(storedText.replacingOccurrences(of: "s.stored", with: "p.stored")) FROM (\(sql)) p
            ORDER BY p.stored \(direction), p.id \(direction)
            """, values: values)
        // One text per combination of filters, hundreds in all: its call runs unnamed rather than take prepared slots.
        statement.mayBePrepared = false
        return statement
    }
}
