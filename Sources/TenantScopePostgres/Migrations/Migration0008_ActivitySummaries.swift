extension Migration {
    /// Two summaries of the learner-day roll-up, so `active_learners` is served without reading one row
    /// per learner and day (architecture decision 19): the number of active learners per day, and per
    /// learner the set of days it was active, as a `datemultirange`. Both are per-tenant roll-ups under
    /// the usual rules, kept by the same refresh as the learner-day rows they summarize.
    static let activitySummaries = Migration(version: 8, name: "activity summaries", statements: [
        """
        CREATE TABLE app.daily_active_learners (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          day date NOT NULL,
          learners integer NOT NULL CHECK (learners > 0),
          PRIMARY KEY (tenant_id, day)
        )
        """,
        "CALL app_private.protect_tenant_table('app.daily_active_learners')",

        // One row per learner: every day it was active, merged into ranges (a learner active on 1-3 and 9
        // March holds {[03-01,03-04),[03-09,03-10)}). "Active in the window" is one overlap test per row,
        // and last_day (indexed) skips the learners who were not active since the window began.
        """
        CREATE TABLE app.learner_active_days (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          learner_hash text NOT NULL,
          active datemultirange NOT NULL CHECK (NOT isempty(active)),
          last_day date NOT NULL GENERATED ALWAYS AS (upper(active) - 1) STORED,
          PRIMARY KEY (tenant_id, learner_hash)
        )
        """,
        "CALL app_private.protect_tenant_table('app.learner_active_days')",
        "CREATE INDEX learner_active_days_tenant_last_day ON app.learner_active_days (tenant_id, last_day)",
        // Like the learner-day rows, the summaries are roll-ups the platform role reads across tenants.
        "CREATE POLICY platform_read ON app.daily_active_learners FOR SELECT TO tenantscope_platform USING (true)",
        "CREATE POLICY platform_read ON app.learner_active_days FOR SELECT TO tenantscope_platform USING (true)",
        "GRANT SELECT ON app.daily_active_learners, app.learner_active_days TO tenantscope_platform",
        // The refresh below re-reads the learner-day rows of the learners whose days it recomputed.
        "CREATE INDEX daily_learner_activity_tenant_learner ON app.daily_learner_activity (tenant_id, learner_hash)",

        // Migration 5's refresh of the learner-day rows of the given days, now also refreshing the two
        // summaries: day counts for those days, and the active days of every learner active on one of them
        // before or after the refresh.
        """
        CREATE OR REPLACE FUNCTION app.refresh_learner_activity_days(days date[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          affected text[] := ARRAY(SELECT DISTINCT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
        BEGIN
          DELETE FROM app.daily_learner_activity WHERE day = ANY (days);
          INSERT INTO app.daily_learner_activity (day, learner_hash, statements)
            SELECT d.day, md5(s.actor_key), count(*)
            FROM unnest(days) AS d(day)
            JOIN app.statements s ON s."timestamp" >= d.day::timestamp AT TIME ZONE 'UTC'
                                 AND s."timestamp" < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
            WHERE NOT s.voided AND s.voids IS NULL
            GROUP BY 1, 2;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (day, learners)
            SELECT a.day, count(*) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

          affected := ARRAY(SELECT unnest(affected) UNION
                            SELECT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
          DELETE FROM app.learner_active_days WHERE learner_hash = ANY (affected);
          INSERT INTO app.learner_active_days (learner_hash, active)
            SELECT a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
            FROM app.daily_learner_activity a WHERE a.learner_hash = ANY (affected)
            GROUP BY a.learner_hash;
        END
        $$
        """,

        // Today's active learners, served: the roll-up's rows for today as of the last catch-up, plus what
        // was stored since (RollupCoverage: from the watermark minus the overlap), so the raw read is bounded
        // by a few minutes of ingest instead of the whole day. Voiding after the catch-up makes the roll-up
        // rows of the targets' actors stale, so those actors are re-read from the raw statements instead.
        // PL/pgSQL so that `since` is planned as a value (a custom plan per call): the planner then reads
        // the few rows after it through the (tenant_id, stored) index; as an unknown it would read the day.
        """
        CREATE FUNCTION app.active_learners_today(wanted_region text, overlap interval) RETURNS SETOF text
        LANGUAGE plpgsql STABLE SECURITY INVOKER
        SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_custom_plan
        AS $$
        DECLARE
          since timestamptz := coalesce((SELECT r.stored_through FROM app.rollup_state r) - overlap, '-infinity');
          day_start timestamptz := current_date::timestamp AT TIME ZONE 'UTC';
          day_end timestamptz := (current_date + 1)::timestamp AT TIME ZONE 'UTC';
          revoided text[] := ARRAY(SELECT DISTINCT t.actor_key
                                   FROM app.statements v JOIN app.statements t ON t.id = v.voids
                                   WHERE v.stored > since AND v.voids IS NOT NULL);
        BEGIN
          RETURN QUERY
            SELECT a.learner_hash FROM app.daily_learner_activity a
            WHERE a.day = current_date
              AND NOT EXISTS (SELECT 1 FROM unnest(revoided) r(actor_key) WHERE md5(r.actor_key) = a.learner_hash)
              AND (wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                     WHERE md5(l.actor_key) = a.learner_hash AND l.region = wanted_region))
            UNION
            SELECT md5(s.actor_key) FROM app.statements s
            WHERE (s.stored > since OR s.actor_key = ANY (revoided))
              AND s."timestamp" >= day_start AND s."timestamp" < day_end AND NOT s.voided AND s.voids IS NULL
              AND (wanted_region IS NULL OR EXISTS (SELECT 1 FROM app.learners l
                                                     WHERE l.actor_key = s.actor_key AND l.region = wanted_region));
        END
        $$
        """,
        "GRANT EXECUTE ON FUNCTION app.active_learners_today(text, interval) TO tenantscope_tenant",

        // Existing roll-ups have no summaries yet: forget every tenant's watermark, so the roll-up service's
        // next pass recomputes all days (and with them the summaries). The owner, which owns the table, is
        // exempt from the policy once it is no longer forced; the schema audit checks it is forced again.
        "ALTER TABLE app.rollup_state NO FORCE ROW LEVEL SECURITY",
        "DELETE FROM app.rollup_state",
        "ALTER TABLE app.rollup_state FORCE ROW LEVEL SECURITY",
    ])
}
