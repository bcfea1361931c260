import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The Learning Record Store's storage: writes statement batches and answers statement queries, always
/// inside a tenant-scoped transaction of the one session helper (the tenant is the credential's).
///
/// A batch is one transaction: it inserts every new statement with one multi-row `INSERT`, refuses the
/// whole batch when a stored statement with the same id differs (409), applies voiding, and queues the
/// touched actors for derivation (`app.learning_facts_queue`) before it commits. Learners, courses,
/// enrollments and the daily roll-ups follow through the roll-up service, within one of its intervals.
public struct StatementStore: Sendable {
    let sessions: ScopedDatabase
    /// Seals the `more` cursors of statement pages.
    public let cursors: StatementCursorSigner

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
    public func store(
        _ batch: [PreparedStatement], attachments: [AttachmentContent] = [], in scope: TenantScope, logger: Logger
    ) async throws -> StoreOutcome {
        try await sessions.run(scope, access: .readWrite, logger: logger) { connection in
            try await AttachmentStore.insert(attachments, on: connection)
            let inserted = try await Self.insert(batch, queueingDerivation: true, storedInTransaction: true, on: connection)
            if inserted.count < batch.count {
                try await Self.refuseConflicts(batch, inserted: inserted, on: connection)
            }
            let newStatements = batch.filter { inserted.contains($0.id) }
            try await Self.applyVoiding(newStatements, on: connection)
            return StoreOutcome(ids: batch.map(\.id), stored: newStatements.count)
        }
    }

    /// Inserts statements whose id is new for the tenant; returns the ids that were inserted. One round
    /// trip for the common batch: the statement that inserts also marks a statement voided when an
    /// earlier voiding statement already names it, and (`queueingDerivation`) queues the new statements'
    /// actors for the roll-up service to derive (`app.learning_facts_queue`, architecture decision 18, with
    /// the earliest `stored` of each one's new statements, where derivation starts reading) and
    /// how many counted statements each actor gained on each day (`app.rollup_queue`, decisions 32 and 54),
    /// which the service adds to the learner-day roll-ups without reading the statements again. The queue
    /// rows commit or roll back with the statements, so nothing ingested is ever missed or counted twice.
    ///
    /// With `storedInTransaction`, `stored` is the database's clock inside this transaction (one
    /// microsecond apart, in batch order), written into both the column and the statement's JSON, and
    /// into `timestamp` too where the sender gave none: a batch that waited for a connection can never
    /// commit with a `stored` older than the roll-up service's look-back. Without it (demo data, which
    /// spreads history over months), the prepared `stored` is kept.
    ///
    /// `tenant_id` is never passed: it is the transaction's verified context, as the column default would
    /// stamp it, but read once per batch and table (an uncorrelated sub-select) instead of once per row,
    /// because the default checks the context's HMAC on every row (about 15 µs each). The policy's WITH
    /// CHECK still checks every row.
    static func insert(
        _ batch: [PreparedStatement], queueingDerivation: Bool, storedInTransaction: Bool = false, on connection: ScopedConnection
    ) async throws -> Set<UUID> {
        guard !batch.isEmpty else { return [] }
        let iso: (Date) -> String = ISO8601Timestamp.formatMicroseconds
        let storedTexts = storedInTransaction ? batch.map { _ in "" } : batch.map(\.storedText)
        let rows = try await connection.query("""
            WITH clock AS MATERIALIZED (SELECT clock_timestamp() AS now),
            input AS (
              SELECT s.*, coalesce(nullif(s.st, '')::timestamptz, (SELECT c.now FROM clock c) + (s.n - 1) * interval '1 microsecond') AS stored_at
              FROM unnest(\(batch.map(\.id)), \(batch.map(\.json)), \(batch.map(\.facts.actorKey)),
                          \(batch.map { $0.facts.actorName ?? "" }), \(batch.map(\.facts.verbID)), \(batch.map(\.facts.objectID)),
                          \(batch.map { $0.facts.objectType ?? "" }), \(batch.map { $0.facts.course?.iri ?? "" }),
                          \(batch.map { $0.facts.course?.title ?? "" }), \(batch.map { $0.facts.registration?.uuidString ?? "" }),
                          \(batch.map { iso($0.facts.timestamp) }), \(storedTexts),
                          \(batch.map(\.facts.completesCourse)), \(batch.map { $0.facts.cohort ?? "" }),
                          \(batch.map { $0.facts.learnerRegion ?? "" }), \(batch.map { $0.facts.voidedStatementID?.uuidString ?? "" }),
                          \(batch.map(\.senderGaveTimestamp)))
                   WITH ORDINALITY AS s(i, j, a, an, v, o, t, c, ct, r, ts, st, cc, h, lr, vd, tg, n)
            ), inserted AS (
              INSERT INTO app.statements
                (tenant_id, id, statement, actor_key, actor_name, verb_id, object_id, object_type, course_iri, course_title,
                 registration, "timestamp", stored, completes_course, cohort, learner_region, voids, voided)
              SELECT (SELECT app.current_tenant()), x.i,
                     x.j::jsonb || jsonb_build_object('stored', to_char(x.stored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'))
                       || CASE WHEN x.tg THEN '{}'::jsonb
                               ELSE jsonb_build_object('timestamp', to_char(x.stored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')) END,
                     x.a, nullif(x.an, ''), x.v, x.o, nullif(x.t, ''), nullif(x.c, ''), nullif(x.ct, ''),
                     nullif(x.r, '')::uuid, CASE WHEN x.tg THEN x.ts::timestamptz ELSE x.stored_at END, x.stored_at, x.cc,
                     nullif(x.h, ''), nullif(x.lr, ''), nullif(x.vd, '')::uuid,
                     x.vd = '' AND EXISTS (SELECT 1 FROM app.statements earlier WHERE earlier.voids = x.i)
              FROM input x
              ON CONFLICT (tenant_id, id) DO NOTHING
              RETURNING id, actor_key, voids, voided, "timestamp", stored
            ), queued AS (
              INSERT INTO app.learning_facts_queue (tenant_id, actor_key, stored_from)
              SELECT (SELECT app.current_tenant()), actor_key, min(stored) FROM inserted
              WHERE voids IS NULL AND \(queueingDerivation)
              GROUP BY 2
            ), queued_days AS (
              INSERT INTO app.rollup_queue (tenant_id, day, actor_key, statements)
              SELECT (SELECT app.current_tenant()), ("timestamp" AT TIME ZONE 'UTC')::date, actor_key, count(*) FROM inserted
              WHERE voids IS NULL AND NOT voided AND \(queueingDerivation)
              GROUP BY 2, 3
            )
            SELECT id FROM inserted
            """)
        var ids = Set<UUID>()
        for try await id in rows.decode(UUID.self) { ids.insert(id) }
        return ids
    }

    /// xAPI: re-sending a stored statement is fine; sending a different one under a stored id is a 409.
    /// The properties the LRS fills in (`stored`, `authority`, `version`, and `timestamp` when the sender
    /// gave none) do not count as differences.
    static func refuseConflicts(_ batch: [PreparedStatement], inserted: Set<UUID>, on connection: ScopedConnection) async throws {
        let resent = batch.enumerated().filter { !inserted.contains($0.element.id) }
        let rows = try await connection.query("""
            SELECT n.ord
            FROM unnest(\(resent.map(\.offset)), \(resent.map(\.element.id)), \(resent.map(\.element.json)),
                        \(resent.map(\.element.senderGaveTimestamp))) AS n(ord, id, j, ts)
            JOIN app.statements s ON s.id = n.id
            WHERE (s.statement - ARRAY['stored', 'authority', 'version'] - CASE WHEN n.ts THEN '{}'::text[] ELSE ARRAY['timestamp'] END)
                  IS DISTINCT FROM
                  (n.j::jsonb - ARRAY['stored', 'authority', 'version'] - CASE WHEN n.ts THEN '{}'::text[] ELSE ARRAY['timestamp'] END)
            ORDER BY n.ord
            LIMIT 1
            """)
        if let index = try await rows.collect().first?.decode(Int.self) {
            let name = batch.count == 1 ? "statement" : "statements[\(index)]"
            throw TenantScopeError.conflict("\(name): a different statement with the id \(batch[index].id.uuidString.lowercased()) is already stored")
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
        let refused = try await connection.query("""
            SELECT id FROM app.statements WHERE id = ANY (\(targets)) AND voids IS NOT NULL LIMIT 1
            """).collect().first?.decode(UUID.self)
        if let refused {
            throw TenantScopeError.invalidInput(
                "statement \(refused.uuidString.lowercased()) is itself a voiding statement and cannot be voided")
        }
        // A target stored by a transaction still running is missed here; the next roll-up pass voids it (migration 33).
        try await connection.query("SELECT app.void_statements(\(targets))")
    }

    // MARK: - Reading

    static let storedText = #"to_char(s.stored AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"#

    /// One statement by id: a statement that is not voided, or (`voided: true`) one that is.
    public func statement(id: UUID, voided: Bool, in scope: TenantScope, logger: Logger) async throws -> StoredStatement? {
        try await sessions.run(scope, logger: logger) { connection in
            let rows = try await connection.query(PostgresQuery(unsafeSQL: """
                SELECT s.id, s.statement::text, \(Self.storedText) FROM app.statements s WHERE s.id = $1 AND s.voided = $2
                """, binds: Self.bindings(id, voided)))
            return try await rows.collect().first.map { row in
                let (id, json, stored) = try row.decode((UUID, String, String).self)
                return StoredStatement(id: id, json: json, stored: stored)
            }
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
        var binds = PostgresBindings()
        func bind(_ value: some PostgresNonThrowingEncodable & Sendable) -> String {
            binds.append(value)
            return "$\(binds.count)"
        }
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
        let order = "ORDER BY stored \(direction), id \(direction) LIMIT \(filter.limit + 1)"
        let direct = """
            SELECT s.id, s.statement::text AS statement, s.stored FROM app.statements s
            WHERE \((window + matches("s")).joined(separator: " AND "))
            ORDER BY s.stored \(direction), s.id \(direction) LIMIT \(filter.limit + 1)
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
                   ORDER BY s.stored \(direction), s.id \(direction) LIMIT \(filter.limit + 1))
                ) page \(order)
                """
        }
        let query = PostgresQuery(unsafeSQL: """
            SELECT p.id, p.statement, \(Self.storedText.replacingOccurrences(of: "s.stored", with: "p.stored")) FROM (\(sql)) p
            ORDER BY p.stored \(direction), p.id \(direction)
            """, binds: binds)
        return try await sessions.run(scope, logger: logger) { connection in
            var statements: [StoredStatement] = []
            for try await (id, json, stored) in try await connection.query(query)
                .decode((UUID, String, String).self) {
                statements.append(StoredStatement(id: id, json: json, stored: stored))
            }
            var next: StatementFilter?
            if statements.count > filter.limit {
                statements.removeLast()
                next = statements.last.map { filter.continuing(afterStored: $0.stored, id: $0.id) }
            }
            return Page(statements: statements, next: next)
        }
    }

    private static func bindings(_ id: UUID, _ flag: Bool) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(id)
        binds.append(flag)
        return binds
    }
}
