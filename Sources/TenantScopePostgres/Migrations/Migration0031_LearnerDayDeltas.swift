extension Migration {
    /// Learner-day counts kept as deltas the ingest transaction writes (issue 16, architecture decision 54).
    ///
    /// Until now a queued day was recounted whole: every pass re-read all of the day's statements, so a pass
    /// during steady ingest cost what the day held so far, not what was new, and the recount of the touched
    /// days was half of a pass after a 1 % increment (`bench/rollups`). Now a queue row may carry an actor and
    /// a signed number of statements: the ingest transaction writes `+n` per actor and day it stored
    /// (counted statements only), voiding writes `−n` for the statements it takes away, and the catch-up adds
    /// the differences to the learner-day rows, the day totals and the learners' active-day ranges without
    /// reading a statement. A row without an actor keeps its old meaning, "recount this day whole": learner
    /// erasure writes those, and so may any writer that cannot say what changed.
    ///
    /// A day recounted whole must not also receive the deltas its recount already counted. The catch-up takes
    /// the queue at one snapshot and recounts at a later one (PostgreSQL runs each statement of a function at
    /// READ COMMITTED), so a batch that commits in between is in the recount while its delta rows are still
    /// queued. The recount therefore deletes the day's delta rows in the same statement that counts its
    /// statements: one statement, one snapshot, so exactly the deltas of the statements it counted go.
    ///
    /// Two more parts of a pass stop growing with what is not new. Derivation reads an actor's new statements
    /// from the earliest `stored` its queue rows name (each batch writes it) instead of two hours back from what
    /// it derived last; and its merge upserts, and computes enrollment outcomes before and after, only for the
    /// enrollments the new statements change and the learners whose region moves.
    ///
    /// The roll-up rows these functions insert name their tenant with an uncorrelated `(SELECT
    /// app.current_tenant())`, once per statement, instead of the column default, which verifies the
    /// context's HMAC once per row (as `StatementStore` already does for statements); row-level security
    /// still checks every row.
    static let learnerDayDeltas = Migration(version: 31, name: "learner-day deltas", statements: [
        // Queued rows keep their meaning: no actor, a whole day.
        "ALTER TABLE app.rollup_queue ADD COLUMN actor_key text, ADD COLUMN statements integer",
        """
        ALTER TABLE app.rollup_queue ADD CONSTRAINT rollup_queue_delta_check
          CHECK ((actor_key IS NULL AND statements IS NULL) OR (actor_key IS NOT NULL AND statements IS NOT NULL AND statements <> 0))
        """,

        // Where an actor's new statements begin: the earliest `stored` of its statements in the batch that queued
        // it. Derivation reads from there instead of looking back two hours from what it derived last, which
        // re-read everything an actor sent in the last two hours on every pass. NULL (rows queued before this
        // migration, by voiding, or by a writer that does not say): the look-back, as before.
        "ALTER TABLE app.learning_facts_queue ADD COLUMN stored_from timestamptz",

        // One queued delta, one learner day before and after the deltas, and the change of one day's totals:
        // the functions' working sets.
        "CREATE TYPE app.learner_day_delta AS (day date, actor_key text, statements integer)",
        "CREATE TYPE app.learner_day_change AS (day date, learner_hash text, before integer, after integer)",
        "CREATE TYPE app.day_total_delta AS (day date, learners integer, statements bigint)",

        // The active-day ranges of `hashes`, rebuilt from their learner days: for a learner that lost a day, and
        // in a full recount. (Three functions below call it.)
        """
        CREATE FUNCTION app.rebuild_learner_active_days(hashes text[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          DELETE FROM app.learner_active_days WHERE learner_hash = ANY (hashes);
          INSERT INTO app.learner_active_days (tenant_id, learner_hash, active)
            SELECT (SELECT app.current_tenant()), a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
            FROM app.daily_learner_activity a WHERE a.learner_hash = ANY (hashes)
            GROUP BY a.learner_hash;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.rebuild_learner_active_days(text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.rebuild_learner_active_days(text[]) TO tenantscope_tenant",

        // Adds queued deltas to the learner days, the day totals and the active-day ranges. Only the catch-up
        // writes these tables, under the tenant's derivation lock, so what it reads as "before" stays true
        // until it writes.
        """
        CREATE FUNCTION app.apply_learner_day_deltas(deltas app.learner_day_delta[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          changes app.learner_day_change[];
          totals app.day_total_delta[];
          lost text[];
        BEGIN
          -- Two steps: the learner keys first (`after` holds the delta until the stored count is known), so
          -- the stored rows are then looked up by plain values through the primary key. In one statement the
          -- key is an expression of the join and the planner filtered every learner day of the day instead.
          changes := ARRAY(
            SELECT ROW(d.day, coalesce(l.learner_key, app.learner_key(d.actor_key)), NULL, d.delta)::app.learner_day_change
            FROM (SELECT q.day, q.actor_key, sum(q.statements)::integer AS delta
                  FROM unnest(deltas) q GROUP BY q.day, q.actor_key HAVING sum(q.statements) <> 0) d
            LEFT JOIN app.learners l ON l.actor_key = d.actor_key);
          changes := ARRAY(
            SELECT ROW(k.day, k.learner_hash, coalesce(a.statements, 0), coalesce(a.statements, 0) + k.after)::app.learner_day_change
            FROM unnest(changes) k
            LEFT JOIN app.daily_learner_activity a ON a.day = k.day AND a.learner_hash = k.learner_hash
            ORDER BY k.day, k.learner_hash);
          IF cardinality(changes) = 0 THEN
            RETURN;
          END IF;

          -- A count that reaches zero (or would go below it, which only a damaged queue could cause and a
          -- rebuild repairs) leaves the table, as a recount would leave it out.
          DELETE FROM app.daily_learner_activity a USING unnest(changes) c
            WHERE c.before > 0 AND c.after <= 0 AND a.day = c.day AND a.learner_hash = c.learner_hash;
          UPDATE app.daily_learner_activity a SET statements = c.after FROM unnest(changes) c
            WHERE c.before > 0 AND c.after > 0 AND a.day = c.day AND a.learner_hash = c.learner_hash;
          INSERT INTO app.daily_learner_activity (tenant_id, day, learner_hash, statements)
            SELECT (SELECT app.current_tenant()), c.day, c.learner_hash, c.after FROM unnest(changes) c WHERE c.before = 0 AND c.after > 0;

          -- Day totals: a learner day that appeared adds a learner, one that went takes one away. The totals
          -- have CHECKs (learners > 0), which PostgreSQL applies to a proposed row before ON CONFLICT, so
          -- existing days are updated or deleted and only new days inserted.
          totals := ARRAY(
            SELECT ROW(c.day, count(*) FILTER (WHERE c.before = 0 AND c.after > 0) - count(*) FILTER (WHERE c.before > 0 AND c.after <= 0),
                       sum(greatest(c.after, 0) - c.before))::app.day_total_delta
            FROM unnest(changes) c GROUP BY c.day);
          DELETE FROM app.daily_active_learners d USING unnest(totals) t
            WHERE d.day = t.day AND d.learners + t.learners <= 0;
          UPDATE app.daily_active_learners d SET learners = d.learners + t.learners, statements = d.statements + t.statements
            FROM unnest(totals) t WHERE d.day = t.day;
          INSERT INTO app.daily_active_learners (tenant_id, day, learners, statements)
            SELECT (SELECT app.current_tenant()), t.day, t.learners, t.statements FROM unnest(totals) t
            WHERE t.learners > 0 AND NOT EXISTS (SELECT 1 FROM app.daily_active_learners d WHERE d.day = t.day);

          -- Active-day ranges: a learner that lost a day is rebuilt from its learner days; a new day is added.
          lost := ARRAY(SELECT DISTINCT c.learner_hash FROM unnest(changes) c WHERE c.before > 0 AND c.after <= 0);
          IF cardinality(lost) > 0 THEN
            PERFORM app.rebuild_learner_active_days(lost);
          END IF;
          INSERT INTO app.learner_active_days AS d (tenant_id, learner_hash, active)
            SELECT (SELECT app.current_tenant()), c.learner_hash, range_agg(daterange(c.day, c.day, '[]'))
            FROM unnest(changes) c
            WHERE c.before = 0 AND c.after > 0 AND NOT (c.learner_hash = ANY (lost))
            GROUP BY c.learner_hash
          ON CONFLICT (tenant_id, learner_hash) DO UPDATE SET active = d.active + EXCLUDED.active;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.apply_learner_day_deltas(app.learner_day_delta[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.apply_learner_day_deltas(app.learner_day_delta[]) TO tenantscope_tenant",

        // Migration 26's merge, visiting only the enrollments the new statements change: the upsert locked
        // every enrollment of every touched actor, and the outcomes before and after were computed for all of
        // them, though a later statement rarely changes an enrollment.
        """
        CREATE TYPE app.enrollment_merge AS (
          actor_key text, course_iri text, enrolled_at timestamptz, completed_at timestamptz, cohort text, cohort_at timestamptz,
          cohort_from uuid, registration uuid, registration_at timestamptz, registration_from uuid
        )
        """,
        "DROP FUNCTION app.merge_new_learning_facts(text[], interval)",
        """
        CREATE FUNCTION app.merge_new_learning_facts(keys text[], since timestamptz[], look_back boolean[], overlap interval) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          merged_actors text[];
          read_since timestamptz[];
          fresh app.statement_facts[];
          affected_courses text[];
          candidates app.enrollment_merge[];
          changing app.enrollment_merge[];
          outcome_actors text[];
          outcomes_before app.enrollment_outcome[];
        BEGIN
          -- Where each actor's new statements begin: the earliest `stored` its queue rows name, and, when one of
          -- its rows names none (`look_back`), no later than its `derived_through` minus the overlap.
          SELECT array_agg(l.actor_key),
                 array_agg(CASE WHEN k.look_back THEN least(k.since, l.derived_through - overlap) ELSE k.since END)
          INTO merged_actors, read_since
          FROM unnest(keys, since, look_back) AS k(actor_key, since, look_back) JOIN app.learners l ON l.actor_key = k.actor_key;
          fresh := ARRAY(
            SELECT ROW(s.actor_key, s.course_iri, s."timestamp", s.id, s.stored, s.completes_course, s.cohort, s.registration,
                       s.actor_name, s.learner_region, NOT s.voided AND s.voids IS NULL)::app.statement_facts
            FROM unnest(merged_actors, read_since) AS u(actor_key, since)
            JOIN app.statements s ON s.actor_key = u.actor_key AND s.stored >= u.since);
          affected_courses := ARRAY(SELECT DISTINCT s.course_iri FROM unnest(fresh) s WHERE s.course_iri IS NOT NULL AND s.counted);
          INSERT INTO app.courses (course_iri, title)
            SELECT a.course_iri,
                   (SELECT s.course_title FROM app.statements s
                    WHERE s.course_iri = a.course_iri AND NOT s.voided AND s.voids IS NULL AND s.course_title IS NOT NULL
                    ORDER BY s."timestamp", s.id LIMIT 1)
            FROM unnest(affected_courses) AS a(course_iri)
          ON CONFLICT (tenant_id, course_iri) DO UPDATE SET title = EXCLUDED.title
            WHERE app.courses.title IS DISTINCT FROM EXCLUDED.title;

          -- The enrollments the new statements would change (new ones, or an earliest value that moves: the
          -- upsert's WHERE below), and the actors whose outcome rows can change with them or with their
          -- region. Most touched enrollments change nothing, so neither the upsert (which locks every row it
          -- finds, changed or not) nor the outcomes before and after need to visit them.
          candidates := ARRAY(
            SELECT ROW(n.*)::app.enrollment_merge FROM (
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
            ) n);
          changing := ARRAY(
            SELECT ROW(n.*)::app.enrollment_merge
            FROM unnest(candidates) n
            JOIN app.learners l ON l.actor_key = n.actor_key
            JOIN app.courses c ON c.course_iri = n.course_iri
            LEFT JOIN app.enrollments e ON e.learner_id = l.id AND e.course_id = c.id
            WHERE e.learner_id IS NULL
               OR n.enrolled_at < e.enrolled_at
               OR (n.completed_at IS NOT NULL AND (e.completed_at IS NULL OR n.completed_at < e.completed_at))
               OR (n.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (n.cohort_at, n.cohort_from) < (e.cohort_at, e.cohort_from)))
               OR (n.registration_at IS NOT NULL
                   AND (e.registration_at IS NULL OR (n.registration_at, n.registration_from) < (e.registration_at, e.registration_from))));
          outcome_actors := ARRAY(
            SELECT n.actor_key FROM unnest(changing) n
            UNION
            SELECT r.actor_key
            FROM (SELECT s.actor_key,
                         (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_at,
                         (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_from
                  FROM unnest(fresh) s GROUP BY s.actor_key) r
            JOIN app.learners l ON l.actor_key = r.actor_key
            WHERE r.region_at IS NOT NULL AND (l.region_at IS NULL OR (r.region_at, r.region_from) < (l.region_at, l.region_from)));
          outcomes_before := ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(outcome_actors) o);

          INSERT INTO app.enrollments AS e (learner_id, course_id, enrolled_at, completed_at, cohort, registration,
                                            cohort_at, cohort_from, registration_at, registration_from)
            SELECT l.id, c.id, n.enrolled_at, n.completed_at,
                   coalesce(n.cohort, to_char(n.enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM')), n.registration,
                   n.cohort_at, n.cohort_from, n.registration_at, n.registration_from
            FROM unnest(changing) n
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
            ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(outcome_actors) o));
        END
        $$
        """,

        "REVOKE ALL ON FUNCTION app.merge_new_learning_facts(text[], timestamptz[], boolean[], interval) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.merge_new_learning_facts(text[], timestamptz[], boolean[], interval) TO tenantscope_tenant",

        // Migration 16's derivation of the queue, passing each merged actor's first new `stored` from its queue rows.
        """
        CREATE OR REPLACE FUNCTION app.derive_queued_learning_facts(max_rows integer) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          taken_full text[];
          taken_plain text[];
          plain_since timestamptz[];
          plain_look_back boolean[];
          full_keys text[];
          merge_keys text[];
          merge_since timestamptz[];
          merge_look_back boolean[];
        BEGIN
          PERFORM app.lock_tenant_derivation();
          WITH taken AS (
            DELETE FROM app.learning_facts_queue q
            WHERE q.seq IN (SELECT o.seq FROM app.learning_facts_queue o ORDER BY o.seq LIMIT max_rows)
            RETURNING q.actor_key, q.full_derivation, q.stored_from
          ), plain AS (
            -- An actor's new statements begin at the earliest `stored` of its rows; a row that does not say
            -- adds the look-back.
            SELECT t.actor_key, min(t.stored_from) AS since, bool_or(t.stored_from IS NULL) AS look_back
            FROM taken t WHERE NOT t.full_derivation GROUP BY t.actor_key
          )
          SELECT (SELECT array_agg(DISTINCT t.actor_key) FROM taken t WHERE t.full_derivation),
                 (SELECT array_agg(p.actor_key ORDER BY p.actor_key) FROM plain p),
                 (SELECT array_agg(p.since ORDER BY p.actor_key) FROM plain p),
                 (SELECT array_agg(p.look_back ORDER BY p.actor_key) FROM plain p)
          INTO taken_full, taken_plain, plain_since, plain_look_back;
          IF taken_full IS NULL AND taken_plain IS NULL THEN
            RETURN 0;
          END IF;
          full_keys := ARRAY(
            SELECT k FROM unnest(taken_full) k
            UNION
            SELECT k FROM unnest(taken_plain) k
            WHERE NOT EXISTS (SELECT 1 FROM app.learners l WHERE l.actor_key = k AND l.derived_through IS NOT NULL));
          merge_keys := ARRAY(SELECT p.k FROM unnest(taken_plain) AS p(k) WHERE p.k <> ALL (full_keys) ORDER BY p.k);
          merge_since := ARRAY(SELECT p.since FROM unnest(taken_plain, plain_since) AS p(k, since)
                               WHERE p.k <> ALL (full_keys) ORDER BY p.k);
          merge_look_back := ARRAY(SELECT p.look_back FROM unnest(taken_plain, plain_look_back) AS p(k, look_back)
                                   WHERE p.k <> ALL (full_keys) ORDER BY p.k);
          IF cardinality(full_keys) > 0 THEN
            PERFORM app.refresh_learning_facts_fully(full_keys);
          END IF;
          IF cardinality(merge_keys) > 0 THEN
            PERFORM app.merge_new_learning_facts(merge_keys, merge_since, merge_look_back, interval '2 hours');
          END IF;
          RETURN cardinality(full_keys) + cardinality(merge_keys);
        END
        $$
        """,

        // Migration 26's whole-day recount, now also taking the recounted days' delta rows in the statement
        // that counts them (one snapshot: the deltas of exactly the statements it counted).
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
            WITH counted_deltas AS (DELETE FROM app.rollup_queue q WHERE q.day = one_day AND q.actor_key IS NOT NULL)
            INSERT INTO app.daily_learner_activity (tenant_id, day, learner_hash, statements)
              SELECT (SELECT app.current_tenant()), one_day, coalesce(l.learner_key, app.learner_key(g.actor_key)), g.n
              FROM (SELECT s.actor_key, count(*) AS n
                    FROM app.statements s
                    WHERE s."timestamp" >= one_day::timestamp AT TIME ZONE 'UTC'
                      AND s."timestamp" < (one_day + 1)::timestamp AT TIME ZONE 'UTC'
                      AND NOT s.voided AND s.voids IS NULL
                    GROUP BY s.actor_key) g
              LEFT JOIN app.learners l ON l.actor_key = g.actor_key;
          END LOOP;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (tenant_id, day, learners, statements)
            SELECT (SELECT app.current_tenant()), a.day, count(*), sum(a.statements) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

          lost := ARRAY(SELECT DISTINCT o.learner_hash FROM unnest(old_days, old_hashes) AS o(day, learner_hash)
                        WHERE NOT EXISTS (SELECT 1 FROM app.daily_learner_activity a WHERE a.day = o.day AND a.learner_hash = o.learner_hash));
          IF cardinality(lost) > 0 THEN
            PERFORM app.rebuild_learner_active_days(lost);
          END IF;
          INSERT INTO app.learner_active_days AS d (tenant_id, learner_hash, active)
            SELECT (SELECT app.current_tenant()), a.learner_hash, range_agg(daterange(a.day, a.day, '[]'))
            FROM app.daily_learner_activity a
            WHERE a.day = ANY (days) AND NOT (a.learner_hash = ANY (lost))
              AND NOT EXISTS (SELECT 1 FROM unnest(old_days, old_hashes) AS o(day, learner_hash)
                              WHERE o.day = a.day AND o.learner_hash = a.learner_hash)
            GROUP BY a.learner_hash
          ON CONFLICT (tenant_id, learner_hash) DO UPDATE SET active = d.active + EXCLUDED.active;
        END
        $$
        """,

        // Migration 26's full recount, with the same rule for the delta rows of the days it recounts.
        """
        CREATE OR REPLACE FUNCTION app.rebuild_learner_activity_days(days date[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          affected text[] := ARRAY(SELECT DISTINCT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
        BEGIN
          DELETE FROM app.daily_learner_activity WHERE day = ANY (days);
          WITH counted_deltas AS (DELETE FROM app.rollup_queue q WHERE q.day = ANY (days) AND q.actor_key IS NOT NULL)
          INSERT INTO app.daily_learner_activity (tenant_id, day, learner_hash, statements)
            SELECT (SELECT app.current_tenant()), g.day, coalesce(l.learner_key, app.learner_key(g.actor_key)), g.n
            FROM (SELECT (s."timestamp" AT TIME ZONE 'UTC')::date AS day, s.actor_key, count(*) AS n
                  FROM app.statements s
                  WHERE (s."timestamp" AT TIME ZONE 'UTC')::date = ANY (days) AND NOT s.voided AND s.voids IS NULL
                  GROUP BY 1, 2) g
            LEFT JOIN app.learners l ON l.actor_key = g.actor_key;

          DELETE FROM app.daily_active_learners WHERE day = ANY (days);
          INSERT INTO app.daily_active_learners (tenant_id, day, learners, statements)
            SELECT (SELECT app.current_tenant()), a.day, count(*), sum(a.statements) FROM app.daily_learner_activity a WHERE a.day = ANY (days) GROUP BY a.day;

          affected := ARRAY(SELECT unnest(affected) UNION
                            SELECT a.learner_hash FROM app.daily_learner_activity a WHERE a.day = ANY (days));
          PERFORM app.rebuild_learner_active_days(affected);
        END
        $$
        """,

        // Migration 26's catch-up: days queued whole are recounted, deltas of every other day are added.
        """
        CREATE OR REPLACE FUNCTION app.catch_up_rollups(overlap interval, full_rebuild boolean) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          newest timestamptz;
          queued app.learner_day_delta[];
          whole_days date[];
          days date[];
          watermark_missing boolean;
        BEGIN
          PERFORM app.lock_tenant_derivation();
          watermark_missing := NOT EXISTS (SELECT 1 FROM app.rollup_state);
          -- Summed per actor and day as they are taken: after a long backlog the queue holds a row per batch.
          WITH taken AS (DELETE FROM app.rollup_queue q RETURNING q.day, q.actor_key, q.statements)
          SELECT array_agg(ROW(g.day, g.actor_key, g.statements)::app.learner_day_delta) INTO queued
          FROM (SELECT t.day, t.actor_key, sum(t.statements)::integer AS statements FROM taken t GROUP BY t.day, t.actor_key) g;
          IF full_rebuild OR watermark_missing THEN
            days := ARRAY(SELECT DISTINCT day FROM app.daily_learner_activity
                          UNION SELECT DISTINCT (s."timestamp" AT TIME ZONE 'UTC')::date FROM app.statements s);
            PERFORM app.rebuild_learner_activity_days(days);
            PERFORM app.refresh_enrollment_outcomes();
          ELSIF queued IS NULL THEN
            RETURN -1;
          ELSE
            whole_days := ARRAY(SELECT DISTINCT q.day FROM unnest(queued) q WHERE q.actor_key IS NULL);
            IF cardinality(whole_days) > 0 THEN
              PERFORM app.refresh_learner_activity_days(whole_days);
            END IF;
            -- The deltas of a day recounted whole are in its recount.
            PERFORM app.apply_learner_day_deltas(ARRAY(
              SELECT ROW(q.day, q.actor_key, q.statements)::app.learner_day_delta FROM unnest(queued) q WHERE q.actor_key IS NOT NULL AND NOT (q.day = ANY (whole_days))));
            days := ARRAY(SELECT DISTINCT q.day FROM unnest(queued) q);
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
