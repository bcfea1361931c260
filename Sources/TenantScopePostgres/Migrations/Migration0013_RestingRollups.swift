extension Migration {
    /// A roll-up service that rests when nothing changed (architecture decision 32).
    ///
    /// Until now a catch-up found its work by looking back from a watermark (the newest `stored`) by an
    /// overlap of ten minutes, so for ten minutes after any ingest every pass recomputed the recent days
    /// and the tenant's whole enrollment outcomes, and the service asked every tenant in turn whether
    /// anything was new. Now the ingest transaction itself writes what changed: the days its statements
    /// (and the targets of its voiding statements) fall on go into `app.rollup_queue`, next to the actors
    /// it already queues for derivation. The rows commit or roll back with the batch, so a catch-up takes
    /// exactly what committed before it looked, and no look-back is needed. The service asks one function
    /// which tenants have queued work and touches no other tenant. Enrollment outcomes follow the
    /// derivation of each actor as a delta (old contribution out, new in) instead of a whole-tenant rebuild.
    static let restingRollups = Migration(version: 13, name: "resting roll-ups", statements: [
        """
        CREATE TABLE app.rollup_queue (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          seq bigint GENERATED ALWAYS AS IDENTITY,
          day date NOT NULL,
          queued_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, seq)
        )
        """,
        "CALL app_private.protect_tenant_table('app.rollup_queue')",
        // Existing data: a queue that starts empty would leave whatever the old look-back had not yet
        // caught up. Every tenant that has roll-ups forgets its watermark and gets one queue row, so the
        // service's next pass finds it and recomputes it whole (a missing watermark means a full catch-up).
        // The owner, which owns the tables, is exempt from their policies once they are no longer forced;
        // the schema audit checks they are forced again.
        "ALTER TABLE app.rollup_state NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.rollup_queue NO FORCE ROW LEVEL SECURITY",
        "INSERT INTO app.rollup_queue (tenant_id, day) SELECT r.tenant_id, current_date FROM app.rollup_state r",
        "DELETE FROM app.rollup_state",
        "ALTER TABLE app.rollup_state FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.rollup_queue FORCE ROW LEVEL SECURITY",

        // The enrollment-outcome rows that `keys`' enrollments make up, as they stand now.
        """
        CREATE FUNCTION app.enrollment_outcomes_of(keys text[])
        RETURNS TABLE (day date, course_id uuid, cohort text, region text, days_to_complete integer, enrollments integer)
        LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT (e.enrolled_at AT TIME ZONE 'UTC')::date, e.course_id, e.cohort, l.region,
                 floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::int, count(*)::int
          FROM app.learners l JOIN app.enrollments e ON e.learner_id = l.id
          WHERE l.actor_key = ANY (keys)
          GROUP BY 1, 2, 3, 4, 5
        $$
        """,
        "REVOKE ALL ON FUNCTION app.enrollment_outcomes_of(text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.enrollment_outcomes_of(text[]) TO tenantscope_tenant",
        // The enrollment outcomes that `keys`' enrollments contribute, as they stand now, added (sign 1)
        // or taken away (sign -1). Derivation calls it before and after it rewrites the actors' facts. A
        // row whose count reaches zero goes, so the table holds what a rebuild would.
        """
        CREATE FUNCTION app.apply_enrollment_outcomes(keys text[], sign integer) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          IF sign > 0 THEN
            INSERT INTO app.daily_enrollment_outcomes AS o (day, course_id, cohort, region, days_to_complete, enrollments)
              SELECT d.day, d.course_id, d.cohort, d.region, d.days_to_complete, d.enrollments
              FROM app.enrollment_outcomes_of(keys) d
            ON CONFLICT (tenant_id, day, course_id, cohort, region, days_to_complete)
              DO UPDATE SET enrollments = o.enrollments + EXCLUDED.enrollments;
          ELSE
            -- Rows that reach zero go first; the rest are decremented (the CHECK keeps counts positive).
            DELETE FROM app.daily_enrollment_outcomes o USING app.enrollment_outcomes_of(keys) d
              WHERE o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
                AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete
                AND o.enrollments <= d.enrollments;
            UPDATE app.daily_enrollment_outcomes o SET enrollments = o.enrollments - d.enrollments
              FROM app.enrollment_outcomes_of(keys) d
              WHERE o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
                AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete;
          END IF;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.apply_enrollment_outcomes(text[], integer) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.apply_enrollment_outcomes(text[], integer) TO tenantscope_tenant",

        // Migration 5's derivation with the enrollment-outcome delta around it. With NULL (every actor, a
        // full rebuild) the outcomes are rebuilt whole by catch_up_rollups instead.
        """
        CREATE OR REPLACE FUNCTION app.refresh_learning_facts(actor_keys text[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          -- NULL means every actor: those with statements and those with a learner row left behind.
          keys text[] := coalesce(actor_keys, ARRAY(SELECT s.actor_key FROM app.statements s UNION SELECT l.actor_key FROM app.learners l));
          affected_courses text[] := ARRAY(
            SELECT DISTINCT s.course_iri FROM app.statements s WHERE s.course_iri IS NOT NULL AND s.actor_key = ANY (keys));
        BEGIN
          IF actor_keys IS NOT NULL THEN
            PERFORM app.apply_enrollment_outcomes(keys, -1);
          END IF;
          INSERT INTO app.learners (actor_key, display_name, region, first_seen, last_seen)
            SELECT f.actor_key, f.display_name, f.region, f.first_seen, f.last_seen FROM app.learners_from_statements(keys) f
          ON CONFLICT (tenant_id, actor_key) DO UPDATE
            SET display_name = EXCLUDED.display_name, region = EXCLUDED.region,
                first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen;
          DELETE FROM app.learners l
            WHERE l.actor_key = ANY (keys)
              AND NOT EXISTS (SELECT 1 FROM app.statements s
                              WHERE s.actor_key = l.actor_key AND NOT s.voided AND s.voids IS NULL);

          INSERT INTO app.courses (course_iri, title)
            SELECT a.course_iri,
                   (SELECT s.course_title FROM app.statements s
                    WHERE s.course_iri = a.course_iri AND NOT s.voided AND s.voids IS NULL AND s.course_title IS NOT NULL
                    ORDER BY s."timestamp", s.id LIMIT 1)
            FROM unnest(affected_courses) AS a(course_iri)
            WHERE EXISTS (SELECT 1 FROM app.statements s WHERE s.course_iri = a.course_iri AND NOT s.voided AND s.voids IS NULL)
          ON CONFLICT (tenant_id, course_iri) DO UPDATE SET title = EXCLUDED.title;
          DELETE FROM app.courses c
            WHERE c.course_iri = ANY (affected_courses)
              AND NOT EXISTS (SELECT 1 FROM app.statements s WHERE s.course_iri = c.course_iri AND NOT s.voided AND s.voids IS NULL);

          DELETE FROM app.enrollments e USING app.learners l
            WHERE e.learner_id = l.id AND l.actor_key = ANY (keys);
          INSERT INTO app.enrollments (learner_id, course_id, enrolled_at, completed_at, cohort, registration)
            SELECT l.id, c.id, f.enrolled_at, f.completed_at, f.cohort, f.registration
            FROM app.enrollments_from_statements(keys) f
            JOIN app.learners l ON l.actor_key = f.actor_key
            JOIN app.courses c ON c.course_iri = f.course_iri;
          IF actor_keys IS NOT NULL THEN
            PERFORM app.apply_enrollment_outcomes(keys, 1);
          END IF;
        END
        $$
        """,

        // One catch-up step for the current tenant: recompute the days queued by ingest (all of them with
        // full_rebuild, and then the enrollment outcomes and feature usage whole too). `overlap` is no longer
        // read: the queue replaces the look-back; the signature stays so callers need not change in step.
        // Returns how many days were recomputed, -1 for nothing to do.
        """
        CREATE OR REPLACE FUNCTION app.catch_up_rollups(overlap interval, full_rebuild boolean) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          newest timestamptz;
          days date[];
          watermark_missing boolean;
        BEGIN
          PERFORM app.lock_tenant_derivation();
          watermark_missing := NOT EXISTS (SELECT 1 FROM app.rollup_state);
          WITH taken AS (DELETE FROM app.rollup_queue q RETURNING q.day)
          SELECT array_agg(DISTINCT t.day) INTO days FROM taken t;
          IF full_rebuild OR watermark_missing THEN
            days := ARRAY(SELECT DISTINCT day FROM app.daily_learner_activity
                          UNION SELECT DISTINCT (s."timestamp" AT TIME ZONE 'UTC')::date FROM app.statements s);
          ELSIF days IS NULL THEN
            RETURN -1;
          END IF;
          PERFORM app.refresh_learner_activity_days(days);
          IF full_rebuild OR watermark_missing THEN
            PERFORM app.refresh_enrollment_outcomes();
          END IF;
          IF full_rebuild THEN
            PERFORM app.refresh_daily_rollups_feature_usage();
          END IF;
          -- The watermark still bounds the raw tail that served "today" figures read (RollupCoverage).
          SELECT max(s.stored) INTO newest FROM app.statements s;
          INSERT INTO app.rollup_state (stored_through) VALUES (coalesce(newest, '-infinity'))
          ON CONFLICT (tenant_id) DO UPDATE SET stored_through = EXCLUDED.stored_through, refreshed_at = now();
          RETURN coalesce(array_length(days, 1), 0);
        END
        $$
        """,

        // Which tenants have queued work, for the roll-up service's login: tenant ids, counts and the age
        // of the oldest entry, nothing of the rows themselves. Owned by the aggregates role (migration 9),
        // which alone may read the queues across tenants, so the server's login reads no tenant table.
        "CREATE POLICY aggregates_read ON app.learning_facts_queue FOR SELECT TO tenantscope_aggregates USING (true)",
        "CREATE POLICY aggregates_read ON app.rollup_queue FOR SELECT TO tenantscope_aggregates USING (true)",
        "GRANT SELECT ON app.learning_facts_queue, app.rollup_queue TO tenantscope_aggregates",
        """
        CREATE FUNCTION app.pending_rollup_work()
        RETURNS TABLE (tenant_id uuid, queued bigint, oldest timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT w.tenant_id, sum(w.queued)::bigint, min(w.oldest)
          FROM (SELECT q.tenant_id, count(*) AS queued, min(q.queued_at) AS oldest FROM app.learning_facts_queue q GROUP BY 1
                UNION ALL
                SELECT q.tenant_id, count(*), min(q.queued_at) FROM app.rollup_queue q GROUP BY 1) w
          GROUP BY w.tenant_id
        $$
        """,
        // Handing the function over needs membership in the role and its CREATE on the schema, as in migration 9.
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        "GRANT CREATE ON SCHEMA app TO tenantscope_aggregates",
        "ALTER FUNCTION app.pending_rollup_work() OWNER TO tenantscope_aggregates",
        "REVOKE CREATE ON SCHEMA app FROM tenantscope_aggregates",
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
        "REVOKE ALL ON FUNCTION app.pending_rollup_work() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.pending_rollup_work() TO tenantscope_app",
    ])
}
