import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Erases one learner from one tenant (a data-subject erasure request), in one transaction in that
/// tenant's scope, so it happens entirely or not at all:
/// - the learner's statements (as the actor), their learner row, enrollments and queued derivations,
///   and the xAPI documents stored for them as the agent;
/// - their contribution to the roll-ups: enrollment outcomes as a delta (old contribution out), and every
///   day their statements fell on recomputed, so every other learner's figures are unchanged;
/// - export jobs about them (their data-subject exports are deleted) and every finished export of the
///   tenant that could hold their rows (statement exports, learner drill-downs, custom reports, whose SQL may
///   select anything of the semantic layer): revoked, and their files are returned for the caller to remove.
///
/// Statements by others that merely mention the learner (as an object, an instructor, a team member)
/// are kept: they are the other actors' records (docs/exports.md says so).
public struct LearnerErasure: Sendable {
    let sessions: ScopedDatabase

    public init(database: Database) {
        self.sessions = database.sessions
    }

    public struct Outcome: Sendable, Hashable {
        public var statements: Int
        public var documents: Int
        public var learnerRows: Int
        /// Finished exports revoked because they may hold the learner; their files must be removed.
        public var revokedExports: [ExportObjectKey]
        public var deletedExportJobs: [ExportObjectKey]
    }

    public func erase(actorKey: String, in scope: TenantScope, logger: Logger) async throws -> Outcome {
        try await sessions.run(scope, access: .readWrite, statementTimeout: .seconds(600), logger: logger) { connection in
            // One derivation of the tenant at a time: the roll-up service must not re-derive the learner
            // from statements this transaction is removing.
            try await connection.execute("SELECT app.lock_tenant_derivation()")
            try await connection.execute("SELECT app.apply_enrollment_outcomes(ARRAY[\(actorKey)]::text[], -1)")
            // The learner's queued derivations go before their statements. A batch of the learner's that commits
            // after this DELETE and before the next one loses its statements there, and its queue row derives
            // nothing; one that commits after the next DELETE keeps both and is derived after this commits. In the
            // other order, a batch committing between the two kept its statements and lost its queue row: never
            // derived until a full rebuild (ErasureRaceTests). A batch's row (migration 36) loses the learner's key
            // and start, or goes when the learner was its only actor: one statement, so one snapshot, as before.
            try await connection.execute("""
                WITH emptied AS (
                  DELETE FROM app.learning_facts_queue WHERE actor_key = \(actorKey) OR actor_keys = ARRAY[\(actorKey)]::text[]
                )
                UPDATE app.learning_facts_queue q
                SET (actor_keys, stored_froms) = (
                  SELECT array_agg(u.actor_key ORDER BY u.position), array_agg(u.stored_from ORDER BY u.position)
                  FROM unnest(q.actor_keys, q.stored_froms) WITH ORDINALITY AS u(actor_key, stored_from, position)
                  WHERE u.actor_key <> \(actorKey))
                WHERE \(actorKey) = ANY (q.actor_keys) AND cardinality(q.actor_keys) > 1
                """)
            // The days to recount whole come from the rows the DELETE removed, not from an earlier read: a batch
            // of the learner's that commits in between is deleted too, and its queued deltas are then part of
            // a day that is recounted (decision 54).
            let (statements, courses) = try await connection.query("""
                WITH gone AS (DELETE FROM app.statements WHERE actor_key = \(actorKey) RETURNING "timestamp", course_iri),
                recount AS (INSERT INTO app.rollup_queue (day) SELECT DISTINCT ("timestamp" AT TIME ZONE 'UTC')::date FROM gone)
                SELECT count(*)::int, coalesce(array_agg(DISTINCT course_iri) FILTER (WHERE course_iri IS NOT NULL), '{}')::text[] FROM gone
                """).collect().first?.decode((Int, [String]).self) ?? (0, [])
            // Enrollments go with the learner row (ON DELETE CASCADE).
            let learnerRows = try await connection.query("""
                WITH gone AS (DELETE FROM app.learners WHERE actor_key = \(actorKey) RETURNING 1) SELECT count(*)::int FROM gone
                """).collect().first?.decode(Int.self) ?? 0
            // A course whose title came from one of the learner's statements takes it from the earliest one left
            // (migration 38), as a rebuild would.
            try await connection.execute("SELECT app.merge_course_titles('{}'::app.course_title[], \(courses)::text[], false)")
            let documents = try await connection.query("""
                WITH gone AS (DELETE FROM app.xapi_documents WHERE agent_key = \(actorKey) RETURNING 1) SELECT count(*)::int FROM gone
                """).collect().first?.decode(Int.self) ?? 0
            // The tenant's export claims wait for this transaction, and it for a claim in progress: both change many
            // jobs in one statement, each in its own plan's order, and without taking turns one could hold a job the
            // other waits for while waiting for one the other holds (a deadlock PostgreSQL ends by failing one: the
            // erasure's client got a 503). After the derivation lock, which a claim never takes.
            try await connection.execute("SELECT app.lock_export_claims()")
            let deleted = try await connection.query("""
                DELETE FROM app.export_jobs WHERE subject_actor_key = \(actorKey) RETURNING \(unescaped: ExportJobStore.columns())
                """).collect().map(ExportJobStore.decode)
            let revoked = try await connection.query("""
                UPDATE app.export_jobs SET state = 'revoked', error = 'removed by a learner erasure', finished_at = coalesce(finished_at, now()),
                       lease_owner = NULL, lease_until = NULL
                WHERE state IN ('queued', 'running', 'done')
                  AND (source IN ('statements', 'custom_report') OR report = ANY(\(ExportSource.learnerLevelReports.sorted())::text[]))
                RETURNING \(unescaped: ExportJobStore.columns())
                """).collect().map(ExportJobStore.decode)
            // Their files are queued for removal with the decision: removed after the commit, and by the export
            // worker should the store fail then (migration 50).
            try await ExportJobStore.queueRemovals(of: (revoked + deleted).map(\.objectKey), on: connection)
            // The days the learner's statements fell on, recomputed now from what is left, so reports
            // are right the moment this commits (and equal a rebuild).
            try await connection.execute("SELECT app.catch_up_rollups(\(RollupCoverage.overlap)::interval, false)")
            return Outcome(statements: statements, documents: documents, learnerRows: learnerRows,
                           revokedExports: revoked.map(\.objectKey), deletedExportJobs: deleted.map(\.objectKey))
        }
    }
}
