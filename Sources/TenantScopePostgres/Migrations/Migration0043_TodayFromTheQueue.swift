extension Migration {
    /// The served `active_learners` report finds the learners whose row of today the roll-ups may not hold yet in the
    /// roll-up queue, not in the raw statements stored after the watermark (issue 16, architecture decision 73).
    ///
    /// Since decision 54 the catch-up takes nothing but the queue: ingest's `INSERT` queues each actor's counted
    /// statements per day, voiding queues minus what its `UPDATE` voided, both in the batch's own transaction, and a
    /// catch-up adds the counts to the learner days without reading a statement. What the roll-ups lack is therefore
    /// exactly what is queued, and a learner's row of today after the next catch-up is its rolled-up count plus its
    /// queued counts, the sum `app.apply_learner_day_deltas` computes. Migration 32 still read today's statements
    /// stored after the watermark less the 10-minute overlap, the catch-up's older bound, with every voiding statement
    /// stored since: the tenant's last ten minutes of statements on every request however current its roll-ups were,
    /// about half of `app.active_learner_totals` at 10M statements and 38 % at 1M (`pg_stat_statements` under 32
    /// connections). The queue of a tenant whose roll-ups are current is empty.
    ///
    /// A day queued whole (a writer that cannot say what changed, such as learner erasure, which takes its own queue
    /// rows before it commits) and a tenant that never had a catch-up (its first one recounts every day) are read from
    /// the whole of today's raw statements, as before the roll-ups existed.
    ///
    /// The functions lose their `overlap` parameter. A build that still passes it does not start against this schema:
    /// the migrator refuses a database with a migration it does not know.
    static let todayFromTheQueue = Migration(version: 43, name: "today from the queue", statements: [
        "DROP FUNCTION app.active_learner_totals(integer, interval)",
        "DROP FUNCTION app.active_learners_today(text, interval)",
        "DROP FUNCTION app.todays_learners_outside_rollups(interval)",
        """
        CREATE FUNCTION app.learners_pending_today(OUT pending text[], OUT active text[])
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $$
        DECLARE
          whole_day boolean;
        BEGIN
          -- `pending`: the learners whose row of today the roll-ups may not hold yet; `active`: those of them active
          -- today. One statement, so the queue and the rolled-up rows it adds to are read at one snapshot.
          SELECT NOT EXISTS (SELECT 1 FROM app.rollup_state)
                   OR EXISTS (SELECT 1 FROM app.rollup_queue q
                              WHERE q.day = current_date AND q.actor_key IS NULL AND q.actor_keys IS NULL),
                 coalesce(array_agg(p.learner_hash), '{}'),
                 coalesce(array_agg(p.learner_hash) FILTER (WHERE p.statements > 0), '{}')
          INTO whole_day, pending, active
          FROM (
            SELECT k.learner_hash, k.queued + coalesce((SELECT a.statements FROM app.daily_learner_activity a
                                                        WHERE a.day = current_date AND a.learner_hash = k.learner_hash), 0)
                   AS statements
            FROM (
              -- A derived learner's key is read from its row (the learners' trigger set it with app.learner_key);
              -- the HMAC is computed only for an actor not derived yet.
              SELECT coalesce((SELECT l.learner_key FROM app.learners l WHERE l.actor_key = g.actor_key),
                              app.learner_key(g.actor_key)) AS learner_hash, g.queued
              FROM (
                SELECT e.actor_key, sum(e.statements) AS queued
                FROM (SELECT q.actor_key, q.statements FROM app.rollup_queue q
                      WHERE q.day = current_date AND q.actor_key IS NOT NULL
                      UNION ALL
                      SELECT u.actor_key, u.statements
                      FROM app.rollup_queue q, unnest(q.actor_keys, q.statement_counts) AS u(actor_key, statements)
                      WHERE q.day = current_date AND q.actor_keys IS NOT NULL) e
                GROUP BY e.actor_key) g) k) p;
          IF whole_day THEN
            -- Every learner of today is pending; the active ones are read from today's raw statements.
            active := ARRAY(
              SELECT coalesce(l.learner_key, app.learner_key(r.actor_key)) FROM (
                SELECT DISTINCT s.actor_key FROM app.statements s
                WHERE s."timestamp" >= current_date::timestamp AT TIME ZONE 'UTC'
                  AND s."timestamp" < (current_date + 1)::timestamp AT TIME ZONE 'UTC'
                  AND NOT s.voided AND s.voids IS NULL) r
                LEFT JOIN app.learners l ON l.actor_key = r.actor_key);
            pending := ARRAY(SELECT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = current_date
                             UNION
                             SELECT k FROM unnest(active) k);
          END IF;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.learners_pending_today() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.learners_pending_today() TO tenantscope_tenant",
        """
        CREATE FUNCTION app.active_learners_today(wanted_region text) RETURNS SETOF text
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $$
        DECLARE
          today record;
        BEGIN
          SELECT * INTO today FROM app.learners_pending_today();
          RETURN QUERY
            SELECT a.learner_hash FROM app.daily_learner_activity a
            WHERE a.day = current_date
              AND a.learner_hash <> ALL (today.pending)
              AND (wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                     WHERE l.learner_key = a.learner_hash AND l.region = wanted_region))
            UNION
            SELECT k.learner_hash FROM unnest(today.active) k(learner_hash)
            WHERE wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                   WHERE l.learner_key = k.learner_hash AND l.region = wanted_region);
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.active_learners_today(text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.active_learners_today(text) TO tenantscope_tenant",
        // Migration 42's function with the pending learners of today in place of the raw tail's.
        """
        CREATE FUNCTION app.active_learner_totals(days integer)
        RETURNS TABLE (today_learners bigint, window_learners bigint)
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
        AS $$
        DECLARE
          first_day date := current_date - (days - 1);
          today record;
          checked text[];
        BEGIN
          IF days IS NULL OR days < 1 THEN
            RAISE EXCEPTION 'the window must be at least one day' USING ERRCODE = '22023';
          END IF;
          SELECT * INTO today FROM app.learners_pending_today();
          -- Checked one by one: the pending learners, and learners whose last active day is after today.
          checked := ARRAY(SELECT k FROM unnest(today.pending) k
                           UNION
                           SELECT l.learner_hash FROM app.learner_active_days l WHERE l.last_day > current_date);
          RETURN QUERY
          WITH looked_up AS (
            SELECT c.learner_hash, d.last_day, d.active,
                   EXISTS (SELECT 1 FROM app.daily_learner_activity a
                           WHERE a.day = current_date AND a.learner_hash = c.learner_hash) AS rolled_up_today
            FROM unnest(checked) c(learner_hash)
            -- OFFSET 0 keeps the lookup per learner: flattened into a join, the planner read all of the tenant's
            -- active days to hash a few dozen learners.
            LEFT JOIN LATERAL (SELECT l.last_day, l.active FROM app.learner_active_days l
                               WHERE l.learner_hash = c.learner_hash OFFSET 0) d ON true
          ), checked_learners AS MATERIALIZED (
            SELECT u.*, CASE WHEN u.learner_hash = ANY (today.pending) THEN u.learner_hash = ANY (today.active)
                             ELSE u.rolled_up_today END AS today
            FROM looked_up u
          )
          SELECT
            (coalesce((SELECT t.learners FROM app.daily_active_learners t WHERE t.day = current_date), 0)
              - (SELECT count(*) FROM checked_learners c WHERE c.rolled_up_today)
              + (SELECT count(*) FROM checked_learners c WHERE c.today))::bigint,
            ((SELECT coalesce(sum(n.learners), 0) FROM app.learners_by_last_day n WHERE n.last_day BETWEEN first_day AND current_date)
              - (SELECT count(*) FROM checked_learners c WHERE c.last_day BETWEEN first_day AND current_date)
              + (SELECT count(*) FROM checked_learners c
                 WHERE c.today OR c.active && daterange(first_day, current_date, '[)')))::bigint;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.active_learner_totals(integer) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.active_learner_totals(integer) TO tenantscope_tenant",
    ])
}
