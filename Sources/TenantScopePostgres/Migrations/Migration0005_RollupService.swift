extension Migration {
    /// Daily roll-ups kept by a background service: a per-tenant watermark on `stored`, enrollment outcomes
    /// per enrollment day, and the raw-statement derivations that cold report paths and the derived-table
    /// refresh share. Every function runs as the tenant role inside a tenant-scoped transaction.
    static let rollupService = Migration(version: 5, name: "roll-up service", statements: [
        // How far each tenant's roll-ups are caught up.
        """
        CREATE TABLE app.rollup_state (
          tenant_id uuid PRIMARY KEY REFERENCES app.tenants (id) ON DELETE CASCADE,
          stored_through timestamptz NOT NULL,
          refreshed_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "CALL app_private.protect_tenant_table('app.rollup_state')",

        // Enrollments counted per UTC enrollment day, course, cohort, learner region and whole days to
        // completion (NULL: not completed): enough for completion rates, any time-to-complete bucket width
        // and cohort comparisons, exactly. One tenant per row, like every roll-up.
        """
        CREATE TABLE app.daily_enrollment_outcomes (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          day date NOT NULL,
          course_id uuid NOT NULL,
          cohort text NOT NULL,
          region text,
          days_to_complete integer CHECK (days_to_complete >= 0),
          enrollments integer NOT NULL CHECK (enrollments > 0),
          FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses (tenant_id, id) ON DELETE CASCADE,
          UNIQUE NULLS NOT DISTINCT (tenant_id, day, course_id, cohort, region, days_to_complete)
        )
        """,
        "CALL app_private.protect_tenant_table('app.daily_enrollment_outcomes')",

        // Roll-ups name learners by md5(actor_key); reports filtering them by region join on it.
        "CREATE INDEX learners_tenant_hash ON app.learners (tenant_id, md5(actor_key))",

        // The xAPI-to-learning-facts mapping over raw statements, in one place: the derived-table refresh and
        // the cold report paths both read these. NULL actor_keys means every actor. Two branches rather than
        // `actor_keys IS NULL OR actor_key = ANY (actor_keys)`, which no index can serve: an ingest batch
        // must cost what its actors hold, not what the tenant holds.
        """
        CREATE FUNCTION app.learners_from_statements(actor_keys text[])
        RETURNS TABLE (actor_key text, display_name text, region text, first_seen timestamptz, last_seen timestamptz)
        LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          IF actor_keys IS NULL THEN
            RETURN QUERY
              SELECT s.actor_key,
                     (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL))[1],
                     (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL))[1],
                     min(s."timestamp"), max(s."timestamp")
              FROM app.statements s WHERE NOT s.voided AND s.voids IS NULL
              GROUP BY s.actor_key;
          ELSE
            RETURN QUERY
              SELECT s.actor_key,
                     (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL))[1],
                     (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL))[1],
                     min(s."timestamp"), max(s."timestamp")
              FROM app.statements s WHERE NOT s.voided AND s.voids IS NULL AND s.actor_key = ANY (actor_keys)
              GROUP BY s.actor_key;
          END IF;
        END
        $$
        """,
        """
        CREATE FUNCTION app.enrollments_from_statements(actor_keys text[])
        RETURNS TABLE (actor_key text, course_iri text, enrolled_at timestamptz, completed_at timestamptz, cohort text, registration uuid)
        LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          IF actor_keys IS NULL THEN
            RETURN QUERY
              SELECT s.actor_key, s.course_iri, min(s."timestamp"),
                     min(s."timestamp") FILTER (WHERE s.completes_course),
                     coalesce((array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1],
                              to_char(min(s."timestamp") AT TIME ZONE 'UTC', 'YYYY-MM')),
                     (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1]
              FROM app.statements s
              WHERE NOT s.voided AND s.voids IS NULL AND s.course_iri IS NOT NULL
              GROUP BY s.actor_key, s.course_iri;
          ELSE
            RETURN QUERY
              SELECT s.actor_key, s.course_iri, min(s."timestamp"),
                     min(s."timestamp") FILTER (WHERE s.completes_course),
                     coalesce((array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1],
                              to_char(min(s."timestamp") AT TIME ZONE 'UTC', 'YYYY-MM')),
                     (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1]
              FROM app.statements s
              WHERE NOT s.voided AND s.voids IS NULL AND s.course_iri IS NOT NULL AND s.actor_key = ANY (actor_keys)
              GROUP BY s.actor_key, s.course_iri;
          END IF;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.learners_from_statements(text[]) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION app.enrollments_from_statements(text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.learners_from_statements(text[]) TO tenantscope_tenant",
        "GRANT EXECUTE ON FUNCTION app.enrollments_from_statements(text[]) TO tenantscope_tenant",

        // The derived-table refresh of migration 4, now reading the shared mapping functions.
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
        END
        $$
        """,

        // Learner activity recomputed for given days from raw statements.
        """
        CREATE FUNCTION app.refresh_learner_activity_days(days date[]) RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          DELETE FROM app.daily_learner_activity WHERE day = ANY (days);
          INSERT INTO app.daily_learner_activity (day, learner_hash, statements)
            SELECT d.day, md5(s.actor_key), count(*)
            FROM unnest(days) AS d(day)
            JOIN app.statements s ON s."timestamp" >= d.day::timestamp AT TIME ZONE 'UTC'
                                 AND s."timestamp" < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
            WHERE NOT s.voided AND s.voids IS NULL
            GROUP BY 1, 2;
        $$
        """,
        // Enrollment outcomes recomputed whole from the derived enrollments (small: one row per learner
        // and course), because a late completion changes the row of an old enrollment day.
        """
        CREATE FUNCTION app.refresh_enrollment_outcomes() RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          DELETE FROM app.daily_enrollment_outcomes;
          INSERT INTO app.daily_enrollment_outcomes (day, course_id, cohort, region, days_to_complete, enrollments)
            SELECT (e.enrolled_at AT TIME ZONE 'UTC')::date, e.course_id, e.cohort, l.region,
                   floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::int, count(*)
            FROM app.enrollments e JOIN app.learners l ON l.id = e.learner_id
            GROUP BY 1, 2, 3, 4, 5;
        $$
        """,

        // One catch-up step for the current tenant. Statements stored after the watermark (minus an
        // overlap, for batches that committed after a later batch had already been seen) name the days to
        // recompute: their own day, or for a voiding statement its target's day. Without a watermark, or
        // with full = true, everything is rebuilt. Returns how many days were recomputed, -1 for nothing to do.
        """
        CREATE FUNCTION app.catch_up_rollups(overlap interval, full_rebuild boolean) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          watermark timestamptz;
          newest timestamptz;
          since timestamptz;
          days date[];
        BEGIN
          PERFORM app.lock_tenant_derivation();
          SELECT r.stored_through INTO watermark FROM app.rollup_state r;
          SELECT max(s.stored) INTO newest FROM app.statements s;
          since := CASE WHEN full_rebuild THEN NULL ELSE watermark - overlap END;
          IF since IS NOT NULL AND NOT EXISTS (SELECT 1 FROM app.statements s WHERE s.stored > since) THEN
            RETURN -1;
          END IF;
          IF since IS NULL THEN
            days := ARRAY(SELECT DISTINCT day FROM app.daily_learner_activity
                          UNION SELECT DISTINCT (s."timestamp" AT TIME ZONE 'UTC')::date FROM app.statements s);
          ELSE
            days := ARRAY(
              SELECT (s."timestamp" AT TIME ZONE 'UTC')::date FROM app.statements s WHERE s.stored > since AND s.voids IS NULL
              UNION
              SELECT (t."timestamp" AT TIME ZONE 'UTC')::date
              FROM app.statements v JOIN app.statements t ON t.id = v.voids
              WHERE v.stored > since);
          END IF;
          PERFORM app.refresh_learner_activity_days(days);
          PERFORM app.refresh_enrollment_outcomes();
          IF full_rebuild THEN
            PERFORM app.refresh_daily_rollups_feature_usage();
          END IF;
          IF newest IS NOT NULL THEN
            INSERT INTO app.rollup_state (stored_through) VALUES (newest)
            ON CONFLICT (tenant_id) DO UPDATE SET stored_through = EXCLUDED.stored_through, refreshed_at = now();
          END IF;
          RETURN coalesce(array_length(days, 1), 0);
        END
        $$
        """,
        """
        CREATE FUNCTION app.refresh_daily_rollups_feature_usage() RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          DELETE FROM app.daily_feature_usage;
          INSERT INTO app.daily_feature_usage (day, feature_key, events, actors)
            SELECT (occurred_at AT TIME ZONE 'UTC')::date, feature_key, count(*), count(DISTINCT actor)
            FROM app.feature_events GROUP BY 1, 2;
        $$
        """,
        "REVOKE ALL ON FUNCTION app.refresh_learner_activity_days(date[]) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION app.refresh_enrollment_outcomes() FROM PUBLIC",
        "REVOKE ALL ON FUNCTION app.catch_up_rollups(interval, boolean) FROM PUBLIC",
        "REVOKE ALL ON FUNCTION app.refresh_daily_rollups_feature_usage() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.refresh_learner_activity_days(date[]) TO tenantscope_tenant",
        "GRANT EXECUTE ON FUNCTION app.refresh_enrollment_outcomes() TO tenantscope_tenant",
        "GRANT EXECUTE ON FUNCTION app.catch_up_rollups(interval, boolean) TO tenantscope_tenant",
        "GRANT EXECUTE ON FUNCTION app.refresh_daily_rollups_feature_usage() TO tenantscope_tenant",
    ])
}
