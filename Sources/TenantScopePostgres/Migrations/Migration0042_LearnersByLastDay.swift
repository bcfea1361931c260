extension Migration {
    /// Learners counted by their last active day, so the served `active_learners` report counts its window's
    /// learners from one row per day instead of one index entry per learner (issue 16, architecture decision 72).
    ///
    /// `app.active_learner_totals` (migration 32) counted the window's distinct learners as the learners whose last
    /// active day falls in the window, an index-only count over `(tenant_id, last_day)`: flat in the tenant's history,
    /// but one entry per learner active in the window, 16,523 for the biggest tenant at 10M statements and about
    /// 2 ms of the function's 7.6. `app.learners_by_last_day` holds that count per day, kept by statement-level triggers on
    /// `app.learner_active_days` as migration 30's monthly sums are kept on the daily outcomes: every writer of the
    /// active days (the roll-up service, a full rebuild, learner erasure, a tenant move) keeps it right without
    /// knowing it exists. The window's count is then the sum of at most a window's rows.
    static let learnersByLastDay = Migration(version: 42, name: "learners by last day", statements: [
        """
        CREATE TABLE app.learners_by_last_day (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          last_day date NOT NULL,
          learners integer NOT NULL,
          PRIMARY KEY (tenant_id, last_day)
        )
        """,
        "CALL app_private.protect_tenant_table('app.learners_by_last_day')",
        // As in migration 30, no CHECK on the count: a change is one upsert adding a signed difference, and
        // PostgreSQL checks a row before it finds the conflict. A count that reaches zero is deleted.
        """
        CREATE FUNCTION app.count_learners_by_last_day() RETURNS trigger
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          gained_tenants uuid[] := '{}';
          gained_days date[] := '{}';
          lost_tenants uuid[] := '{}';
          lost_days date[] := '{}';
        BEGIN
          -- Each event has only its own transition tables: an insert the added rows, a delete the removed ones, an
          -- update both.
          IF TG_OP <> 'DELETE' THEN
            SELECT coalesce(array_agg(a.tenant_id), '{}'), coalesce(array_agg(a.last_day), '{}')
            INTO gained_tenants, gained_days FROM added a;
          END IF;
          IF TG_OP <> 'INSERT' THEN
            SELECT coalesce(array_agg(r.tenant_id), '{}'), coalesce(array_agg(r.last_day), '{}')
            INTO lost_tenants, lost_days FROM removed r;
          END IF;
          -- Each day's difference: an update that keeps a learner's last day (a day added inside its range) changes
          -- none and is dropped by the HAVING. Sorted, so two transactions changing the same days lock them in one
          -- order. Rows of a tenant being deleted (a cascade from app.tenants) change nothing: their counts go with
          -- the tenant.
          INSERT INTO app.learners_by_last_day AS l (tenant_id, last_day, learners)
            SELECT c.tenant_id, c.last_day, sum(c.difference)::integer
            FROM (SELECT g.tenant_id, g.last_day, 1 AS difference FROM unnest(gained_tenants, gained_days) AS g(tenant_id, last_day)
                  UNION ALL
                  SELECT r.tenant_id, r.last_day, -1 FROM unnest(lost_tenants, lost_days) AS r(tenant_id, last_day)) c
            WHERE EXISTS (SELECT 1 FROM app.tenants t WHERE t.id = c.tenant_id)
            GROUP BY 1, 2
            HAVING sum(c.difference) <> 0
            ORDER BY 1, 2
          ON CONFLICT (tenant_id, last_day) DO UPDATE SET learners = l.learners + EXCLUDED.learners;
          -- Only a lost learner brings a count to zero.
          DELETE FROM app.learners_by_last_day l
            USING unnest(lost_tenants, lost_days) AS c(tenant_id, last_day)
            WHERE l.tenant_id = c.tenant_id AND l.last_day = c.last_day AND l.learners = 0;
          RETURN NULL;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.count_learners_by_last_day() FROM PUBLIC",

        // What the active days hold now, counted by the owner (exempt from the policies while they are not forced;
        // the schema audit checks they are forced again).
        "ALTER TABLE app.learner_active_days NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.learners_by_last_day NO FORCE ROW LEVEL SECURITY",
        """
        INSERT INTO app.learners_by_last_day (tenant_id, last_day, learners)
          SELECT l.tenant_id, l.last_day, count(*)::integer FROM app.learner_active_days l GROUP BY 1, 2
        """,
        "ALTER TABLE app.learner_active_days FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.learners_by_last_day FORCE ROW LEVEL SECURITY",

        // One trigger per event: a trigger with transition tables serves a single event.
        """
        CREATE TRIGGER learners_by_last_day_after_insert AFTER INSERT ON app.learner_active_days
          REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.count_learners_by_last_day()
        """,
        """
        CREATE TRIGGER learners_by_last_day_after_update AFTER UPDATE ON app.learner_active_days
          REFERENCING OLD TABLE AS removed NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION app.count_learners_by_last_day()
        """,
        """
        CREATE TRIGGER learners_by_last_day_after_delete AFTER DELETE ON app.learner_active_days
          REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION app.count_learners_by_last_day()
        """,

        // The window's learners whose last day is in it: summed per day. The rest of the function is as migration
        // 32 wrote it (with migration 41's plan setting).
        """
        CREATE OR REPLACE FUNCTION app.active_learner_totals(days integer, overlap interval)
        RETURNS TABLE (today_learners bigint, window_learners bigint)
        LANGUAGE plpgsql STABLE
        SET search_path = pg_catalog, pg_temp
        SET plan_cache_mode = force_generic_plan
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
            ((SELECT coalesce(sum(n.learners), 0) FROM app.learners_by_last_day n WHERE n.last_day BETWEEN first_day AND current_date)
              - (SELECT count(*) FROM checked_learners c WHERE c.last_day BETWEEN first_day AND current_date)
              + (SELECT count(*) FROM checked_learners c
                 WHERE c.today OR c.active && daterange(first_day, current_date, '[)')))::bigint;
        END
        $$
        """,
    ])
}
