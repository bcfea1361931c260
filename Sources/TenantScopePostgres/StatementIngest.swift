import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// The SQL that stores a statement batch, shared by its two ways of running (architecture decisions 62 and 63): one call
/// of the session function ``function`` (one round trip, the default, attachments included), and a scoped transaction
/// of separate statements (a connection that runs transactions, demo data). The function stores the same attachments
/// and runs the same insert, the same conflict check and the same voiding as ``StatementStore``'s transaction does, in
/// the same order, and raises instead of returning where the transaction throws, so the call commits all of the batch
/// or none of it.
enum StatementIngest {
    /// The types of the insert's parameters, in order: the batch's columns as arrays, then whether to queue derivation.
    static let parameterTypes = [
        "uuid[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]", "text[]",
        "boolean[]", "text[]", "text[]", "text[]", "boolean[]", "boolean",
    ]

    /// The types of the function's parameters after the insert's: the content of the batch's attachments (a multipart
    /// request's), as their hashes, bytes and content types.
    static let attachmentParameterTypes = ["text[]", "bytea[]", "text[]"]

    /// The values of ``attachmentParameterTypes`` for `attachments`.
    static func attachmentValues(_ attachments: [AttachmentContent]) -> [BoundStatement.Value] {
        [.textArray(attachments.map(\.sha2)), .bytesArray(attachments.map(\.bytes)), .textArray(attachments.map(\.contentType))]
    }

    /// The insert's statements up to their last `SELECT`, whose list is the caller's: `inserted` holds the rows inserted.
    /// See ``StatementStore/insert(_:queueingDerivation:storedInTransaction:on:)`` for what each part does.
    static let insertStatements = """
        WITH clock AS MATERIALIZED (SELECT clock_timestamp() AS now),
        input AS (
          SELECT s.*, to_char(s.stored_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS stored_text
          FROM (
            SELECT s.*, coalesce(nullif(s.st, '')::timestamptz, (SELECT c.now FROM clock c) + (s.n - 1) * interval '1 microsecond') AS stored_at
            FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[],
                        $10::text[], $11::text[], $12::text[], $13::boolean[], $14::text[], $15::text[], $16::text[], $17::boolean[])
                 WITH ORDINALITY AS s(i, j, a, an, v, o, t, c, ct, r, ts, st, cc, h, lr, vd, tg, n)
          ) s
        ), inserted AS (
          INSERT INTO app.statements
            (tenant_id, id, statement, actor_key, actor_name, verb_id, object_id, object_type, course_iri, course_title,
             registration, "timestamp", stored, completes_course, cohort, learner_region, voids, voided)
          SELECT (SELECT app.current_tenant()), x.i,
                 x.j::jsonb || CASE WHEN x.tg THEN jsonb_build_object('stored', x.stored_text)
                                    ELSE jsonb_build_object('stored', x.stored_text, 'timestamp', x.stored_text) END,
                 x.a, nullif(x.an, ''), x.v, x.o, nullif(x.t, ''), nullif(x.c, ''), nullif(x.ct, ''),
                 nullif(x.r, '')::uuid, CASE WHEN x.tg THEN x.ts::timestamptz ELSE x.stored_at END, x.stored_at, x.cc,
                 nullif(x.h, ''), nullif(x.lr, ''), nullif(x.vd, '')::uuid,
                 x.vd = '' AND EXISTS (SELECT 1 FROM app.statements earlier WHERE earlier.voids = x.i AND earlier.voids IS NOT NULL)
          FROM input x
          -- In id order, whatever the batch's: two batches that share ids then wait for each other's rows in one order, never
          -- each for the other's (a deadlock PostgreSQL ends by failing one).
          ORDER BY x.i
          ON CONFLICT (tenant_id, id) DO NOTHING
          RETURNING id, actor_key, voids, voided, "timestamp", stored
        ), queued AS (
          INSERT INTO app.learning_facts_queue (tenant_id, actor_keys, stored_froms)
          SELECT (SELECT app.current_tenant()), array_agg(a.actor_key ORDER BY a.actor_key), array_agg(a.stored_from ORDER BY a.actor_key)
          FROM (SELECT actor_key, min(stored) AS stored_from FROM inserted WHERE voids IS NULL AND $18::boolean GROUP BY 1) a
          HAVING count(*) > 0
        ), queued_days AS (
          INSERT INTO app.rollup_queue (tenant_id, day, actor_keys, statement_counts)
          SELECT (SELECT app.current_tenant()), d.day, array_agg(d.actor_key ORDER BY d.actor_key), array_agg(d.statements ORDER BY d.actor_key)
          FROM (SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, actor_key, count(*)::integer AS statements FROM inserted
                WHERE voids IS NULL AND NOT voided AND $18::boolean GROUP BY 1, 2) d
          GROUP BY d.day
        )
        """

    /// Whether the stored statement `s` differs from the re-sent `n` (its JSON text `j`, and `ts`: whether its sender gave
    /// a timestamp), ignoring what the LRS fills in: `stored`, `authority`, `version`, and `timestamp` when the sender
    /// gave none.
    static let differs = """
        (s.statement - ARRAY['stored', 'authority', 'version'] - CASE WHEN n.ts THEN '{}'::text[] ELSE ARRAY['timestamp'] END)
          IS DISTINCT FROM
          (n.j::jsonb - ARRAY['stored', 'authority', 'version'] - CASE WHEN n.ts THEN '{}'::text[] ELSE ARRAY['timestamp'] END)
        """

    /// Takes, until the transaction ends, the locks of the ids in `$1` (a batch's new voiding statements and their
    /// targets; migration 54). Two batches whose voiding statements name each other (a voids b, b voids a) each looked at
    /// the other's uncommitted row, found no voiding statement there, and both were stored. With the lock the second
    /// waits for the first to commit, and its check, a statement of its own after the lock, sees the first's row.
    static let lockVoidingIDs = "SELECT app.lock_voiding_ids($1::uuid[])"

    /// The first re-sent statement (its position in the batch) that ``differs`` from the one stored under its id; the
    /// parameters are the re-sent statements' positions, ids, JSON texts and whether each sender gave a timestamp.
    static let firstConflict = """
        SELECT n.ord
        FROM unnest($1::int8[], $2::uuid[], $3::text[], $4::boolean[]) AS n(ord, id, j, ts)
        JOIN app.statements s ON s.id = n.id
        WHERE \(differs)
        ORDER BY n.ord
        LIMIT 1
        """

    /// The values of ``insertStatements``' parameters for `batch`. With `storedInTransaction` every `stored` is left to
    /// the database's clock (an empty text); otherwise each statement's prepared one is kept.
    static func values(_ batch: [PreparedStatement], queueingDerivation: Bool, storedInTransaction: Bool) -> [BoundStatement.Value] {
        let iso: (Date) -> String = ISO8601Timestamp.formatMicroseconds
        return [
            .uuidArray(batch.map(\.id)), .textArray(batch.map(\.json)), .textArray(batch.map(\.facts.actorKey)),
            .textArray(batch.map { $0.facts.actorName ?? "" }), .textArray(batch.map(\.facts.verbID)), .textArray(batch.map(\.facts.objectID)),
            .textArray(batch.map { $0.facts.objectType ?? "" }), .textArray(batch.map { $0.facts.course?.iri ?? "" }),
            .textArray(batch.map { $0.facts.course?.title ?? "" }), .textArray(batch.map { $0.facts.registration.map(UUIDText.lowercase) ?? "" }),
            .textArray(batch.map { iso($0.facts.timestamp) }), .textArray(storedInTransaction ? batch.map { _ in "" } : batch.map(\.storedText)),
            .booleanArray(batch.map(\.facts.completesCourse)), .textArray(batch.map { $0.facts.cohort ?? "" }),
            .textArray(batch.map { $0.facts.learnerRegion ?? "" }), .textArray(batch.map { $0.facts.voidedStatementID.map(UUIDText.lowercase) ?? "" }),
            .booleanArray(batch.map(\.senderGaveTimestamp)), .boolean(queueingDerivation),
        ]
    }

    // MARK: - The session function

    /// The SQLSTATE the function raises when a re-sent statement differs from the stored one; its detail is the position.
    static let conflictState = "TSC01"
    /// The SQLSTATE the function raises when a new statement voids a voiding statement; its detail is the target's id.
    static let voidsVoidingState = "TSV01"

    /// The function that stores a batch: the scope, the tenant gate for a write and the role first, in that order, then
    /// the attachments' content, the insert, the conflict check where a statement was not new, and the voiding, as
    /// ``StatementStore`` runs them in a transaction. It returns the ids it inserted. The role ends with the call, the
    /// context with its transaction (``SessionFunctions/make(prefix:parameterTypes:returns:settings:body:)``).
    static let function: SessionFunctions.Function = {
        let body = """
            #variable_conflict use_column
            DECLARE
              v_inserted uuid[];
              v_targets uuid[];
              v_voiding uuid[];
              v_position int8;
              v_refused uuid;
            BEGIN
              \(SessionFunctions.scope(contextArgument: parameterTypes.count + attachmentParameterTypes.count + 1, write: true))
              IF cardinality($19) > 0 THEN
                -- Content already stored under a hash is the same bytes (the hash was checked), so a repeat is skipped;
                -- of a hash given twice, the first is kept, as the transaction's inserts one by one keep it.
                INSERT INTO app.xapi_attachments (sha2, content, content_type)
                SELECT DISTINCT ON (a.sha2) a.sha2, a.content, a.content_type
                FROM unnest($19, $20, $21) WITH ORDINALITY AS a(sha2, content, content_type, ord)
                ORDER BY a.sha2, a.ord
                ON CONFLICT (tenant_id, sha2) DO NOTHING;
              END IF;
            \(insertStatements)
              SELECT coalesce(array_agg(id), '{}'), coalesce(array_agg(voids) FILTER (WHERE voids IS NOT NULL), '{}'),
                     coalesce(array_agg(id) FILTER (WHERE voids IS NOT NULL), '{}')
              INTO v_inserted, v_targets, v_voiding
              FROM inserted;
              IF cardinality(v_inserted) < cardinality($1) THEN
                SELECT n.ord - 1 INTO v_position
                FROM unnest($1, $2, $17) WITH ORDINALITY AS n(id, j, ts, ord)
                JOIN app.statements s ON s.id = n.id
                WHERE n.id <> ALL (v_inserted) AND \(differs)
                ORDER BY n.ord
                LIMIT 1;
                IF v_position IS NOT NULL THEN
                  RAISE EXCEPTION 'a re-sent statement differs from the stored one' USING ERRCODE = '\(conflictState)', DETAIL = v_position::text;
                END IF;
              END IF;
              IF cardinality(v_targets) > 0 THEN
                -- The voiding ids and targets locked first (see lockVoidingIDs); the check below then sees a batch that
                -- committed meanwhile.
                PERFORM app.lock_voiding_ids(v_targets || v_voiding);
                SELECT id INTO v_refused FROM app.statements WHERE id = ANY (v_targets) AND voids IS NOT NULL LIMIT 1;
                IF v_refused IS NOT NULL THEN
                  RAISE EXCEPTION 'a statement voids a voiding statement' USING ERRCODE = '\(voidsVoidingState)', DETAIL = v_refused::text;
                END IF;
                PERFORM app.void_statements(v_targets);
              END IF;
              RETURN v_inserted;
            END
            """
        return SessionFunctions.make(prefix: "tenantscope_ingest_", parameterTypes: parameterTypes + attachmentParameterTypes,
                                     returns: "uuid[]", body: body)
    }()

    /// The error a call's refusal stands for, as the transaction would have thrown it; nil for any other error.
    static func refusal(_ error: any Error, batch: [PreparedStatement]) -> TenantScopeError? {
        guard let detail = (error as? PSQLError)?.serverInfo?[.detail] else { return nil }
        switch PreparedStatements.sqlState(of: error) {
        case conflictState:
            guard let position = Int(detail), batch.indices.contains(position) else { return nil }
            return conflict(at: position, in: batch)
        case voidsVoidingState:
            return voidsVoiding(detail)
        default:
            return nil
        }
    }

    /// A re-sent statement that differs from the stored one: xAPI's 409.
    static func conflict(at position: Int, in batch: [PreparedStatement]) -> TenantScopeError {
        let name = batch.count == 1 ? "statement" : "statements[\(position)]"
        return .conflict("\(name): a different statement with the id \(batch[position].id.uuidString.lowercased()) is already stored")
    }

    /// A new statement that voids a voiding statement.
    static func voidsVoiding(_ target: String) -> TenantScopeError {
        .invalidInput("statement \(target.lowercased()) is itself a voiding statement and cannot be voided")
    }
}
