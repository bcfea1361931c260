extension Migration {
    /// The functions a served report calls besides its own statement keep one plan per session (issue 16,
    /// architecture decision 70).
    ///
    /// A report runs with `plan_cache_mode = force_custom_plan` (decision 55: its generic plan cannot see which
    /// months its window covers). The setting reached into the functions it calls: `app.active_learner_totals` and
    /// `app.todays_learners_outside_rollups` declared it themselves, and the tenant gate, which declares nothing, took
    /// the report's. Measured with `pg_stat_statements` (nested statements, planning tracked) under 32 connections on
    /// the uncached `active_learners` report: planning the two functions' statements took 27 of the run's 33 s of
    /// planning, about as long as running them.
    ///
    /// Their statements look rows up by key, or read a day or a short range through an index, whatever the values:
    /// a generic plan is the same plan without the planning. One needed a change first. Which of today's learners the
    /// roll-ups may not hold yet is found from the statements stored after the tenant's watermark; a generic plan
    /// cannot see the watermark and, assuming a third of the table after it, read the whole of today through the
    /// timestamp index instead (the slower plan decision 19 chose custom plans to avoid). Today is now compared as UTC
    /// wall-clock time, which no index holds, so the only index left for the statement is `(tenant_id, stored)`:
    /// the rows compared are the same, as are the answers.
    static let genericPlansForServedReports = Migration(version: 41, name: "generic plans for served reports", statements: [
        """
        CREATE OR REPLACE FUNCTION app.todays_learners_outside_rollups(overlap interval, OUT revoided text[], OUT recent text[])
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $$
        DECLARE
          since timestamptz := coalesce((SELECT r.stored_through FROM app.rollup_state r) - overlap, '-infinity');
          revoided_actors text[] := ARRAY(SELECT DISTINCT t.actor_key
                                          FROM app.statements v JOIN app.statements t ON t.id = v.voids
                                          WHERE v.stored > since AND v.voids IS NOT NULL);
        BEGIN
          -- Learners with a statement voided since the watermark: their roll-up rows may count it.
          -- A derived learner's key is read from its row (the learners' trigger set it with app.learner_key);
          -- the HMAC is computed only for an actor not derived yet.
          revoided := ARRAY(SELECT coalesce(l.learner_key, app.learner_key(r.actor_key))
                            FROM unnest(revoided_actors) r(actor_key) LEFT JOIN app.learners l ON l.actor_key = r.actor_key);
          -- Learners with a counted statement today that the roll-ups may not hold yet, and the revoided ones
          -- that still have one: today is read from their raw statements. Today is compared as UTC wall-clock
          -- time, which no index holds, so the plan kept for every call reads the few rows stored after the
          -- watermark through the (tenant_id, stored) index, not the whole day through the timestamp index.
          recent := ARRAY(
            SELECT coalesce(l.learner_key, app.learner_key(r.actor_key)) FROM (
              SELECT DISTINCT s.actor_key FROM app.statements s
              WHERE (s.stored > since OR s.actor_key = ANY (revoided_actors))
                AND s."timestamp" AT TIME ZONE 'UTC' >= current_date::timestamp
                AND s."timestamp" AT TIME ZONE 'UTC' < (current_date + 1)::timestamp
                AND NOT s.voided AND s.voids IS NULL) r
              LEFT JOIN app.learners l ON l.actor_key = r.actor_key);
        END
        $$
        """,
        "ALTER FUNCTION app.active_learner_totals(integer, interval) SET plan_cache_mode = force_generic_plan",
        "ALTER FUNCTION app.active_learners_today(text, interval) SET plan_cache_mode = force_generic_plan",
        // Two primary-key lookups; every tenant transaction and session function call runs it.
        "ALTER FUNCTION gate.tenant_gate(text, boolean) SET plan_cache_mode = force_generic_plan",
    ])
}
