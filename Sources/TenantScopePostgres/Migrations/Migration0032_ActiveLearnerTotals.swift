extension Migration {
    /// `active_learners` counts today's and the window's learners without collecting them (issue 16,
    /// architecture decision 56).
    ///
    /// The served report hashed every learner active in the window (16,581 for the biggest tenant at 10M
    /// statements) together with today's (4,553) to count them distinctly: 17–19 ms in PostgreSQL, where the
    /// course reports take 3–4. Two facts make most of that work unnecessary:
    ///
    /// - A learner's active days (`learner_active_days`) and its learner days (`daily_learner_activity`) are
    ///   written by the same statements of a catch-up (`app.apply_learner_day_deltas`, the recounts), so today is
    ///   one of a learner's active days exactly when it has a learner-day row for today. For such a learner,
    ///   "active in the window or today" is "its last active day is in the window": one index-only count over
    ///   (`tenant_id`, `last_day`), as the platform's window count does since migration 29.
    /// - Today's learner count is the day total the same statements keep (`daily_active_learners`).
    ///
    /// Both hold for every learner except a few that are checked one by one: learners whose statements of today
    /// the roll-ups may not hold yet (stored after the watermark less its overlap, `RollupCoverage`), learners
    /// with a statement voided since (their roll-up rows may still count it), and learners whose last active
    /// day is after today (statements dated in the future). For those, today is decided from the raw statements
    /// as `app.active_learners_today` decides it, and the window from their active days. The counts are
    /// `all − checked-as-counted + checked-as-they-are`, so each learner counts once and the answer is the one
    /// the hash gave.
    ///
    /// The learners outside the roll-ups are found by one function both counts use
    /// (`app.todays_learners_outside_rollups`); `app.active_learners_today`, which the region-filtered report
    /// still reads, now calls it too.
    static let activeLearnerTotals = Migration(version: 32, name: "active learner totals", statements: [
        """
        CREATE FUNCTION app.todays_learners_outside_rollups(overlap interval, OUT revoided text[], OUT recent text[])
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_custom_plan
        AS $$
        DECLARE
          since timestamptz := coalesce((SELECT r.stored_through FROM app.rollup_state r) - overlap, '-infinity');
          revoided_actors text[] := ARRAY(SELECT DISTINCT t.actor_key
                                          FROM app.statements v JOIN app.statements t ON t.id = v.voids
                                          WHERE v.stored > since AND v.voids IS NOT NULL);
        BEGIN
          -- Learners with a statement voided since the watermark: their roll-up rows may count it.
          revoided := ARRAY(SELECT app.learner_key(r.actor_key) FROM unnest(revoided_actors) r(actor_key));
          -- Learners with a counted statement today that the roll-ups may not hold yet, and the revoided ones
          -- that still have one: today is read from their raw statements.
          recent := ARRAY(
            SELECT app.learner_key(r.actor_key) FROM (
              SELECT DISTINCT s.actor_key FROM app.statements s
              WHERE (s.stored > since OR s.actor_key = ANY (revoided_actors))
                AND s."timestamp" >= current_date::timestamp AT TIME ZONE 'UTC'
                AND s."timestamp" < (current_date + 1)::timestamp AT TIME ZONE 'UTC'
                AND NOT s.voided AND s.voids IS NULL) r);
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.todays_learners_outside_rollups(interval) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.todays_learners_outside_rollups(interval) TO tenantscope_tenant",
        """
        CREATE OR REPLACE FUNCTION app.active_learners_today(wanted_region text, overlap interval) RETURNS SETOF text
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_custom_plan
        AS $$
        DECLARE
          outside record;
        BEGIN
          SELECT * INTO outside FROM app.todays_learners_outside_rollups(overlap);
          RETURN QUERY
            SELECT a.learner_hash FROM app.daily_learner_activity a
            WHERE a.day = current_date
              AND a.learner_hash <> ALL (outside.revoided)
              AND (wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                     WHERE l.learner_key = a.learner_hash AND l.region = wanted_region))
            UNION
            SELECT k.learner_hash FROM unnest(outside.recent) k(learner_hash)
            WHERE wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                   WHERE l.learner_key = k.learner_hash AND l.region = wanted_region);
        END
        $$
        """,
        """
        CREATE FUNCTION app.active_learner_totals(days integer, overlap interval)
        RETURNS TABLE (today_learners bigint, window_learners bigint)
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_custom_plan
        AS $$
        DECLARE
          first_day date := current_date - (days - 1);
          outside record;
          checked text[];
        BEGIN
          IF days IS NULL OR days < 1 THEN
            RAISE EXCEPTION 'the window must be at least one day' USING ERRCODE = '22023';
          END IF;
          SELECT * INTO outside FROM app.todays_learners_outside_rollups(overlap);
          checked := ARRAY(SELECT k FROM unnest(outside.revoided || outside.recent) k
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
            SELECT u.*, u.learner_hash = ANY (outside.recent)
                          OR (u.rolled_up_today AND u.learner_hash <> ALL (outside.revoided)) AS today
            FROM looked_up u
          )
          SELECT
            (coalesce((SELECT t.learners FROM app.daily_active_learners t WHERE t.day = current_date), 0)
              - (SELECT count(*) FROM checked_learners c WHERE c.rolled_up_today)
              + (SELECT count(*) FROM checked_learners c WHERE c.today))::bigint,
            ((SELECT count(*) FROM app.learner_active_days l WHERE l.last_day BETWEEN first_day AND current_date)
              - (SELECT count(*) FROM checked_learners c WHERE c.last_day BETWEEN first_day AND current_date)
              + (SELECT count(*) FROM checked_learners c
                 WHERE c.today OR c.active && daterange(first_day, current_date, '[)')))::bigint;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.active_learner_totals(integer, interval) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.active_learner_totals(integer, interval) TO tenantscope_tenant",
    ])
}
