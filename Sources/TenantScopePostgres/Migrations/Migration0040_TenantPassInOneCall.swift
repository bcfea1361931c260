extension Migration {
    /// A roll-up pass gives a tenant one call instead of six statements, planned once per session (issue 16,
    /// architecture decision 69).
    ///
    /// After a 1 % increment over 1,000 tenants the pass cost about 16 ms per tenant with queued work, whatever the
    /// tenant's few new rows, and that fixed part, not the rows, kept the increment above 5 % of a rebuild. Measured with
    /// `pg_stat_statements` (nested statements, planning tracked) on 1M statements over 1,000 tenants:
    /// - `app.void_statements`, `app.void_missed_targets` and `app.enrollment_outcomes_of` were SQL functions, whose
    ///   statements PostgreSQL plans again on every call: about 0.85 ms of planning per tenant, 0.35 of it for the look
    ///   for missed voids, which finds nothing outside the race. They are PL/pgSQL now (the same statements and answers),
    ///   so a session plans them once; `app.void_statements` returns at once for no targets (the look then cost 0.1 ms
    ///   per tenant instead of 0.8).
    /// - PL/pgSQL re-planned most of the derivation's and roll-ups' statements on every call too: given an array the
    ///   planner estimates its length exactly, so a custom plan always looks cheaper than the generic one, which assumes
    ///   a hundred rows. For a pass's few rows the generic plans are the same index lookups without the planning: the
    ///   increment's pass took 0.72 of its time with them. `app.catch_up_queued` sets `plan_cache_mode` to
    ///   `force_generic_plan` for everything it calls; a rebuild and the erasure's catch-up keep the planner's choice.
    /// - The service sent six statements per tenant besides its transaction's own (`synchronous_commit`, the missed
    ///   voids, the queue count, the derivation, a savepoint, the roll-ups): `app.catch_up_queued` does them in one
    ///   call. The roll-ups run in a block with an exception handler, the savepoint's job: if they fail,
    ///   the derived chunk still commits and the call returns the error for the service to log and count.
    static let tenantPassInOneCall = Migration(version: 40, name: "tenant pass in one call", statements: [
        // Migration 33's voiding, planned once per session; no targets, no statement.
        """
        CREATE OR REPLACE FUNCTION app.void_statements(targets uuid[]) RETURNS integer
        LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          voided_count integer;
        BEGIN
          IF coalesce(cardinality(targets), 0) = 0 THEN
            RETURN 0;
          END IF;
          WITH voided AS (
            UPDATE app.statements SET voided = true
            WHERE id = ANY (targets) AND voids IS NULL AND NOT voided
            RETURNING actor_key, "timestamp"
          ), queued_days AS (
            INSERT INTO app.rollup_queue (day, actor_key, statements)
            SELECT ("timestamp" AT TIME ZONE 'UTC')::date, actor_key, -count(*) FROM voided GROUP BY 1, 2
          ), queued_actors AS (
            INSERT INTO app.learning_facts_queue (actor_key, full_derivation) SELECT DISTINCT actor_key, true FROM voided
          )
          SELECT count(*)::integer INTO voided_count FROM voided;
          RETURN voided_count;
        END
        $$
        """,
        """
        CREATE OR REPLACE FUNCTION app.void_missed_targets(overlap interval) RETURNS integer
        LANGUAGE plpgsql VOLATILE SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          RETURN app.void_statements(ARRAY(
            SELECT v.voids FROM app.statements v
            WHERE v.voids IS NOT NULL
              AND v.stored > coalesce((SELECT r.stored_through FROM app.rollup_state r) - overlap, '-infinity')));
        END
        $$
        """,
        // Migration 13's outcomes of some actors' enrollments, planned once per session.
        """
        CREATE OR REPLACE FUNCTION app.enrollment_outcomes_of(keys text[])
        RETURNS TABLE (day date, course_id uuid, cohort text, region text, days_to_complete integer, enrollments integer)
        LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          RETURN QUERY
          SELECT (e.enrolled_at AT TIME ZONE 'UTC')::date, e.course_id, e.cohort, l.region,
                 floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::int, count(*)::int
          FROM app.learners l JOIN app.enrollments e ON e.learner_id = l.id
          WHERE l.actor_key = ANY (keys)
          GROUP BY 1, 2, 3, 4, 5;
        END
        $$
        """,
        // One chunk of a tenant's pass (`RollupService.catchUp`): the missed voids on the pass's first chunk, then up to
        // `max_rows` queued actors derived, then, unless more than a chunk was queued and this is not the pass's last
        // chunk, the roll-ups. `derived`: actors derived; `days`: roll-up days changed (-1: nothing new), NULL when the
        // roll-ups were left to a later chunk or failed; `rollup_error`: why they failed.
        """
        CREATE FUNCTION app.catch_up_queued(max_rows integer, overlap interval, first_chunk boolean, last_chunk boolean,
                                            OUT derived integer, OUT days integer, OUT rollup_error text)
        LANGUAGE plpgsql SECURITY INVOKER
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $$
        DECLARE
          queued integer;
        BEGIN
          -- Everything this commits can be derived again from durable rows: the facts and roll-ups it writes and the
          -- queue rows it deletes commit together, so a commit a crash loses leaves the queue rows for the next pass
          -- (RollupService.catchUp). Transaction-local, so it ends with the pass's transaction. A `SET` command: the
          -- tenant role may not call set_config.
          SET LOCAL synchronous_commit TO off;
          IF first_chunk THEN
            -- Voiding that raced its target (migration 33): first, so this pass counts and derives it.
            PERFORM app.void_missed_targets(overlap);
          END IF;
          -- Actors, not rows: a batch queues its actors in one row (migration 36).
          SELECT coalesce(sum(coalesce(cardinality(q.actor_keys), 1)), 0)::integer INTO queued
          FROM (SELECT f.actor_keys FROM app.learning_facts_queue f LIMIT max_rows + 1) q;
          derived := app.derive_queued_learning_facts(max_rows);
          IF queued > max_rows AND NOT last_chunk THEN
            RETURN;
          END IF;
          BEGIN
            days := app.catch_up_rollups(overlap, false);
          EXCEPTION WHEN OTHERS OR query_canceled THEN
            -- Rolled back to the block's start: the chunk derived above still commits; the next pass tries again.
            rollup_error := SQLSTATE || ': ' || SQLERRM;
          END;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.catch_up_queued(integer, interval, boolean, boolean) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.catch_up_queued(integer, interval, boolean, boolean) TO tenantscope_tenant",
    ])
}
