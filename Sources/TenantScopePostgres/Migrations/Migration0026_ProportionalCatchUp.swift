extension Migration {
    /// A catch-up that costs what was new (architecture decision 50), measured by `bench/rollups`.
    ///
    /// - Merging an actor's new statements read every statement the actor ever sent through the heap: the
    ///   planner cannot use `stored > derived_through - overlap` (an expression of the outer row) as an index
    ///   condition, so the (tenant, actor, stored) index only found the actor and the bound was a filter. The
    ///   bounds are now computed first and joined as plain values, which the index takes; the new statements
    ///   are read once into an array instead of three times through a function.
    /// - Enrollment outcomes were taken out and put back whole for every merged actor (each outcome row of a
    ///   touched learner deleted and inserted again); now the outcomes before and after are compared and only
    ///   the rows that changed are written.
    /// - Recomputing a queued day scanned every statement of the tenant (the planner joined the day list
    ///   against the whole tenant); each day is now its own range read of the (tenant, timestamp) index.
    ///   Learner keys come from the learner rows (which keep them) instead of one keyed hash per row.
    /// - A learner's active days were rebuilt from its whole history whenever one of its days changed; now
    ///   days that became active are added to its ranges, and only a learner that lost a day (voiding, erasure)
    ///   is rebuilt. A full rebuild (`rollups rebuild`, or a tenant without a watermark) still rebuilds all.
    static let proportionalCatchUp = Migration(version: 26, name: "proportional catch-up", statements: [
        // The columns of a statement that derivation reads (`counted`: neither voided nor voiding), and one
        // row of `app.daily_enrollment_outcomes`: row types for the arrays the functions below pass around.
        """
        CREATE TYPE app.statement_facts AS (
          actor_key text, course_iri text, "timestamp" timestamptz, id uuid, stored timestamptz, completes_course boolean,
          cohort text, registration uuid, actor_name text, learner_region text, counted boolean
        )
        """,
        """
        CREATE TYPE app.enrollment_outcome AS (
          day date, course_id uuid, cohort text, region text, days_to_complete integer, enrollments integer
        )
        """,

        // Writes the difference between two sets of enrollment-outcome rows (before and after a merge):
        // a row whose count reaches zero goes, so the table holds what a rebuild would.
        """
        CREATE FUNCTION app.apply_enrollment_outcome_changes(before app.enrollment_outcome[], after app.enrollment_outcome[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          changes app.enrollment_outcome[] := ARRAY(
            SELECT ROW(c.day, c.course_id, c.cohort, c.region, c.days_to_complete, sum(c.enrollments))::app.enrollment_outcome
            FROM (SELECT b.day, b.course_id, b.cohort, b.region, b.days_to_complete, -b.enrollments AS enrollments FROM unnest(before) b
                  UNION ALL
                  SELECT a.day, a.course_id, a.cohort, a.region, a.days_to_complete, a.enrollments FROM unnest(after) a) c
            GROUP BY c.day, c.course_id, c.cohort, c.region, c.days_to_complete
            HAVING sum(c.enrollments) <> 0);
        BEGIN
          IF cardinality(changes) = 0 THEN
            RETURN;
          END IF;
          DELETE FROM app.daily_enrollment_outcomes o USING unnest(changes) d
            WHERE d.enrollments < 0 AND o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
              AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete
              AND o.enrollments + d.enrollments <= 0;
          UPDATE app.daily_enrollment_outcomes o SET enrollments = o.enrollments + d.enrollments
            FROM unnest(changes) d
            WHERE d.enrollments < 0 AND o.day = d.day AND o.course_id = d.course_id AND o.cohort = d.cohort
              AND o.region IS NOT DISTINCT FROM d.region AND o.days_to_complete IS NOT DISTINCT FROM d.days_to_complete;
          INSERT INTO app.daily_enrollment_outcomes AS o (day, course_id, cohort, region, days_to_complete, enrollments)
            SELECT d.day, d.course_id, d.cohort, d.region, d.days_to_complete, d.enrollments FROM unnest(changes) d WHERE d.enrollments > 0
          ON CONFLICT (tenant_id, day, course_id, cohort, region, days_to_complete)
            DO UPDATE SET enrollments = o.enrollments + EXCLUDED.enrollments;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.apply_enrollment_outcome_changes(app.enrollment_outcome[], app.enrollment_outcome[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.apply_enrollment_outcome_changes(app.enrollment_outcome[], app.enrollment_outcome[]) TO tenantscope_tenant",

        // Migration 16's merge, reading the new statements once through the index and writing outcome changes only.
        """
        CREATE OR REPLACE FUNCTION app.merge_new_learning_facts(keys text[], overlap interval) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          outcomes_before app.enrollment_outcome[] := ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(keys) o);
          merged_actors text[];
          read_since timestamptz[];
          fresh app.statement_facts[];
          affected_courses text[];
        BEGIN
          SELECT array_agg(l.actor_key), array_agg(l.derived_through - overlap) INTO merged_actors, read_since
          FROM app.learners l WHERE l.actor_key = ANY (keys);
          fresh := ARRAY(
            SELECT ROW(s.actor_key, s.course_iri, s."timestamp", s.id, s.stored, s.completes_course, s.cohort, s.registration,
                       s.actor_name, s.learner_region, NOT s.voided AND s.voids IS NULL)::app.statement_facts
            FROM unnest(merged_actors, read_since) AS u(actor_key, since)
            JOIN app.statements s ON s.actor_key = u.actor_key AND s.stored > u.since);
          affected_courses := ARRAY(SELECT DISTINCT s.course_iri FROM unnest(fresh) s WHERE s.course_iri IS NOT NULL AND s.counted);
          INSERT INTO app.courses (course_iri, title)
            SELECT a.course_iri,
                   (SELECT s.course_title FROM app.statements s
                    WHERE s.course_iri = a.course_iri AND NOT s.voided AND s.voids IS NULL AND s.course_title IS NOT NULL
                    ORDER BY s."timestamp", s.id LIMIT 1)
            FROM unnest(affected_courses) AS a(course_iri)
          ON CONFLICT (tenant_id, course_iri) DO UPDATE SET title = EXCLUDED.title
            WHERE app.courses.title IS DISTINCT FROM EXCLUDED.title;

          INSERT INTO app.enrollments AS e (learner_id, course_id, enrolled_at, completed_at, cohort, registration,
                                            cohort_at, cohort_from, registration_at, registration_from)
            SELECT l.id, c.id, n.enrolled_at, n.completed_at,
                   coalesce(n.cohort, to_char(n.enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM')), n.registration,
                   n.cohort_at, n.cohort_from, n.registration_at, n.registration_from
            FROM (
              SELECT s.actor_key, s.course_iri, min(s."timestamp") AS enrolled_at,
                     min(s."timestamp") FILTER (WHERE s.completes_course) AS completed_at,
                     (array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort,
                     (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_at,
                     (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_from,
                     (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration,
                     (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_at,
                     (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_from
              FROM unnest(fresh) s
              WHERE s.counted AND s.course_iri IS NOT NULL
              GROUP BY s.actor_key, s.course_iri
            ) n
            JOIN app.learners l ON l.actor_key = n.actor_key
            JOIN app.courses c ON c.course_iri = n.course_iri
          ON CONFLICT (tenant_id, learner_id, course_id) DO UPDATE SET
            enrolled_at = least(e.enrolled_at, EXCLUDED.enrolled_at),
            completed_at = least(e.completed_at, EXCLUDED.completed_at),
            cohort = CASE
              WHEN EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from))
                THEN EXCLUDED.cohort
              WHEN e.cohort_at IS NULL THEN to_char(least(e.enrolled_at, EXCLUDED.enrolled_at) AT TIME ZONE 'UTC', 'YYYY-MM')
              ELSE e.cohort END,
            cohort_from = CASE
              WHEN EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from))
                THEN EXCLUDED.cohort_from ELSE e.cohort_from END,
            cohort_at = CASE
              WHEN EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from))
                THEN EXCLUDED.cohort_at ELSE e.cohort_at END,
            registration = CASE
              WHEN EXCLUDED.registration_at IS NOT NULL
                   AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from))
                THEN EXCLUDED.registration ELSE e.registration END,
            registration_from = CASE
              WHEN EXCLUDED.registration_at IS NOT NULL
                   AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from))
                THEN EXCLUDED.registration_from ELSE e.registration_from END,
            registration_at = CASE
              WHEN EXCLUDED.registration_at IS NOT NULL
                   AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from))
                THEN EXCLUDED.registration_at ELSE e.registration_at END
            -- Most touched enrollments gain nothing (a later statement changes no earliest value): those are not rewritten.
            WHERE EXCLUDED.enrolled_at < e.enrolled_at
               OR (EXCLUDED.completed_at IS NOT NULL AND (e.completed_at IS NULL OR EXCLUDED.completed_at < e.completed_at))
               OR (EXCLUDED.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (EXCLUDED.cohort_at, EXCLUDED.cohort_from) < (e.cohort_at, e.cohort_from)))
               OR (EXCLUDED.registration_at IS NOT NULL
                   AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from)));

          UPDATE app.learners l
          SET first_seen = least(l.first_seen, n.first_seen), last_seen = greatest(l.last_seen, n.last_seen),
              derived_through = greatest(l.derived_through, n.newest_stored),
              display_name = CASE WHEN n.name_at IS NOT NULL AND (l.name_at IS NULL OR (n.name_at, n.name_from) < (l.name_at, l.name_from))
                                  THEN n.display_name ELSE l.display_name END,
              name_from = CASE WHEN n.name_at IS NOT NULL AND (l.name_at IS NULL OR (n.name_at, n.name_from) < (l.name_at, l.name_from))
                               THEN n.name_from ELSE l.name_from END,
              name_at = CASE WHEN n.name_at IS NOT NULL AND (l.name_at IS NULL OR (n.name_at, n.name_from) < (l.name_at, l.name_from))
                             THEN n.name_at ELSE l.name_at END,
              region = CASE WHEN n.region_at IS NOT NULL AND (l.region_at IS NULL OR (n.region_at, n.region_from) < (l.region_at, l.region_from))
                            THEN n.region ELSE l.region END,
              region_from = CASE WHEN n.region_at IS NOT NULL AND (l.region_at IS NULL OR (n.region_at, n.region_from) < (l.region_at, l.region_from))
                                 THEN n.region_from ELSE l.region_from END,
              region_at = CASE WHEN n.region_at IS NOT NULL AND (l.region_at IS NULL OR (n.region_at, n.region_from) < (l.region_at, l.region_from))
                               THEN n.region_at ELSE l.region_at END
          FROM (
            SELECT s.actor_key, max(s.stored) AS newest_stored,
                   min(s."timestamp") FILTER (WHERE s.counted) AS first_seen,
                   max(s."timestamp") FILTER (WHERE s.counted) AS last_seen,
                   (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND s.counted))[1] AS display_name,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND s.counted))[1] AS name_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND s.counted))[1] AS name_from,
                   (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_from
            FROM unnest(fresh) s GROUP BY s.actor_key
          ) n
          WHERE l.actor_key = n.actor_key;

          PERFORM app.apply_enrollment_outcome_changes(outcomes_before,
            ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(keys) o));
        END
        $$
        """,
        "DROP FUNCTION app.new_statements_of(text[], interval)",

        // Migration 17's day refresh for the full path: every statement of the days in one scan, and every
        // touched learner's active days rebuilt whole.
        """
        CREATE FUNCTION app.rebuild_learner_activity_days(days date[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          affected text[] := ARRAY(SELECT DISTINCT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
        BEGIN
          DELETE FROM app.daily_learner_activity WHERE day = ANY (days);
          INSERT INTO app.daily_learner_activity (day, learner_hash, statements)
            SELECT g.day, coalesce(l.learner_key, app.learner_key(g.actor_key)), g.n
            FROM (SELECT (s."timestamp" AT TIME ZONE 'UTC')::date AS day, s.actor_key, count(*) AS n
                  FROM app.statements s
                  WHERE (s."timestamp" AT TIME ZONE 'UTC')::date = ANY (days) AND NOT s.voided AND s.voids IS NULL
                  GROUP BY 1, 2) g
            LEFT JOIN app.learners l ON l.actor_key = g.actor_key;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (day, learners, statements)
            SELECT a.day, count(*), sum(a.statements) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

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
        "REVOKE ALL ON FUNCTION app.rebuild_learner_activity_days(date[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.rebuild_learner_activity_days(date[]) TO tenantscope_tenant",

        // The incremental day refresh: one index range per day, and active days added rather than rebuilt.
        """
        CREATE OR REPLACE FUNCTION app.refresh_learner_activity_days(days date[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          one_day date;
          old_days date[];
          old_hashes text[];
          lost text[];
        BEGIN
          WITH gone AS (DELETE FROM app.daily_learner_activity a WHERE a.day = ANY (days) RETURNING a.day, a.learner_hash)
          SELECT array_agg(g.day), array_agg(g.learner_hash) INTO old_days, old_hashes FROM gone g;
          FOREACH one_day IN ARRAY days LOOP
            INSERT INTO app.daily_learner_activity (day, learner_hash, statements)
              SELECT one_day, coalesce(l.learner_key, app.learner_key(g.actor_key)), g.n
              FROM (SELECT s.actor_key, count(*) AS n
                    FROM app.statements s
                    WHERE s."timestamp" >= one_day::timestamp AT TIME ZONE 'UTC'
                      AND s."timestamp" < (one_day + 1)::timestamp AT TIME ZONE 'UTC'
                      AND NOT s.voided AND s.voids IS NULL
                    GROUP BY s.actor_key) g
              LEFT JOIN app.learners l ON l.actor_key = g.actor_key;
          END LOOP;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (day, learners, statements)
            SELECT a.day, count(*), sum(a.statements) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

          lost := ARRAY(SELECT DISTINCT o.learner_hash FROM unnest(old_days, old_hashes) AS o(day, learner_hash)
                        WHERE NOT EXISTS (SELECT 1 FROM app.daily_learner_activity a WHERE a.day = o.day AND a.learner_hash = o.learner_hash));
          IF cardinality(lost) > 0 THEN
            DELETE FROM app.learner_active_days WHERE learner_hash = ANY (lost);
            INSERT INTO app.learner_active_days (learner_hash, active)
              SELECT a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
              FROM app.daily_learner_activity a WHERE a.learner_hash = ANY (lost)
              GROUP BY a.learner_hash;
          END IF;
          INSERT INTO app.learner_active_days AS d (learner_hash, active)
            SELECT a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
            FROM app.daily_learner_activity a
            WHERE a.day = ANY (days) AND NOT (a.learner_hash = ANY (lost))
              AND NOT EXISTS (SELECT 1 FROM unnest(old_days, old_hashes) AS o(day, learner_hash)
                              WHERE o.day = a.day AND o.learner_hash = a.learner_hash)
            GROUP BY a.learner_hash
          ON CONFLICT (tenant_id, learner_hash) DO UPDATE SET active = d.active + EXCLUDED.active;
        END
        $$
        """,

        // Migration 13's catch-up, rebuilding the days whole when it rebuilds anything.
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
            PERFORM app.rebuild_learner_activity_days(days);
            PERFORM app.refresh_enrollment_outcomes();
          ELSIF days IS NULL THEN
            RETURN -1;
          ELSE
            PERFORM app.refresh_learner_activity_days(days);
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
    ])
}
