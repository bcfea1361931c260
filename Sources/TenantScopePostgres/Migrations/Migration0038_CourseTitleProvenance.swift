extension Migration {
    /// A course's title is merged like a learner's name, from the statement it came from (issue 16, architecture
    /// decision 67).
    ///
    /// A course's title is its earliest counted statement's title, by (timestamp, id). Every derivation pass looked it
    /// up again for each course its new statements named, from all of the course's statements: with the planner's
    /// statistics behind the table (a young or fast-growing tenant), that lookup read every statement of the course and
    /// sorted them, so a pass cost what the course had ever received (72 ms of a 270 ms chunk at 60,000 statements, and
    /// growing with history). Now `app.courses` keeps which statement its title came from (`title_at`, `title_from`),
    /// as learners and enrollments keep theirs (migration 16), and a pass merges the earliest titled statement among
    /// its new ones against it. A title whose statement no longer counts (voided, erased), or whose statement is not
    /// known (a course titled before this migration), is read again from the course's statements, once; a rebuild
    /// sets every title anew. The full derivation it replaces also lists its actors' courses actor by actor, and no
    /// longer probes a course its actors still name for whether it has statements left (architecture decision 67,
    /// with migration 39's reads of learners and enrollments).
    static let courseTitleProvenance = Migration(version: 38, name: "course title provenance", statements: [
        """
        ALTER TABLE app.courses
          ADD COLUMN title_at timestamptz, ADD COLUMN title_from uuid,
          ADD CONSTRAINT courses_title_provenance CHECK ((title_at IS NULL) = (title_from IS NULL) AND (title_at IS NULL OR title IS NOT NULL))
        """,
        // The merge's new statements carry their course title too.
        "ALTER TYPE app.statement_facts ADD ATTRIBUTE course_title text",
        "CREATE TYPE app.course_title AS (course_iri text, title text, title_at timestamptz, title_from uuid)",

        // Each course's earliest counted statement with a title, among all statements (NULL) or the actors' own:
        // the candidates a full derivation merges. Per actor through its index, as migration 37 reads provenance.
        """
        CREATE FUNCTION app.course_titles_from_statements(actor_keys text[]) RETURNS SETOF app.course_title
        LANGUAGE plpgsql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          IF actor_keys IS NULL THEN
            -- Each course's first titled statement through the course index, one course at a time, as every pass read
            -- it before: a rebuild costs what it did.
            RETURN QUERY
              SELECT c.course_iri, t.course_title, t."timestamp", t.id
              FROM (SELECT DISTINCT s.course_iri FROM app.statements s
                    WHERE s.course_iri IS NOT NULL AND NOT s.voided AND s.voids IS NULL) c
              LEFT JOIN LATERAL (
                SELECT s.course_title, s."timestamp", s.id FROM app.statements s
                WHERE s.course_iri = c.course_iri AND s.course_title IS NOT NULL AND NOT s.voided AND s.voids IS NULL
                ORDER BY s."timestamp", s.id
                LIMIT 1
              ) t ON true;
          ELSE
            RETURN QUERY
              SELECT a.course_iri,
                     (array_agg(a.title ORDER BY a.title_at, a.title_from) FILTER (WHERE a.title IS NOT NULL))[1],
                     (array_agg(a.title_at ORDER BY a.title_at, a.title_from) FILTER (WHERE a.title IS NOT NULL))[1],
                     (array_agg(a.title_from ORDER BY a.title_at, a.title_from) FILTER (WHERE a.title IS NOT NULL))[1]
              FROM unnest(actor_keys) AS k(actor_key)
              CROSS JOIN LATERAL (
                SELECT s.course_iri,
                       (array_agg(s.course_title ORDER BY s."timestamp", s.id) FILTER (WHERE s.course_title IS NOT NULL))[1] AS title,
                       (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.course_title IS NOT NULL))[1] AS title_at,
                       (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.course_title IS NOT NULL))[1] AS title_from
                FROM app.statements s
                WHERE s.actor_key = k.actor_key AND s.course_iri IS NOT NULL AND NOT s.voided AND s.voids IS NULL
                GROUP BY s.course_iri
              ) a
              GROUP BY a.course_iri;
          END IF;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.course_titles_from_statements(text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.course_titles_from_statements(text[]) TO tenantscope_tenant",

        // Upserts `candidates` (courses, each with its earliest titled statement among some statements, or none) and
        // keeps, per course, the earlier of the stored title and the candidate's. Then each course of `checked` (NULL:
        // the candidates' courses) whose title came from a statement that no longer counts, or from one not known, is
        // read again from all of its statements. With `whole` the candidates were read from every statement and
        // replace what is stored.
        """
        CREATE FUNCTION app.merge_course_titles(candidates app.course_title[], checked text[], whole boolean) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          INSERT INTO app.courses AS c (course_iri, title, title_at, title_from)
            SELECT n.course_iri, n.title, n.title_at, n.title_from FROM unnest(candidates) n
          ON CONFLICT (tenant_id, course_iri) DO UPDATE
            SET title = EXCLUDED.title, title_at = EXCLUDED.title_at, title_from = EXCLUDED.title_from
            WHERE whole
               OR (EXCLUDED.title_at IS NOT NULL
                   AND (c.title IS NULL OR (c.title_at IS NOT NULL AND (EXCLUDED.title_at, EXCLUDED.title_from) < (c.title_at, c.title_from))));
          IF whole THEN
            RETURN;
          END IF;
          UPDATE app.courses c
          SET title = t.title, title_at = t.title_at, title_from = t.title_from
          FROM (
            SELECT k.id, f.title, f.title_at, f.title_from
            FROM app.courses k
            LEFT JOIN LATERAL (
              SELECT s.course_title AS title, s."timestamp" AS title_at, s.id AS title_from
              FROM app.statements s
              WHERE s.course_iri = k.course_iri AND s.course_title IS NOT NULL AND NOT s.voided AND s.voids IS NULL
              ORDER BY s."timestamp", s.id
              LIMIT 1
            ) f ON true
            WHERE k.course_iri = ANY (coalesce(checked, ARRAY(SELECT n.course_iri FROM unnest(candidates) n)))
              AND k.title IS NOT NULL
              AND (k.title_at IS NULL
                   OR NOT EXISTS (SELECT 1 FROM app.statements s WHERE s.id = k.title_from AND NOT s.voided AND s.voids IS NULL))
          ) t
          WHERE c.id = t.id;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.merge_course_titles(app.course_title[], text[], boolean) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.merge_course_titles(app.course_title[], text[], boolean) TO tenantscope_tenant",

        // Migration 13's full derivation, with the course titles merged, and its actors' statements found actor by actor
        // (migration 39 reads the learners and enrollments the same way).
        """
        CREATE OR REPLACE FUNCTION app.refresh_learning_facts(actor_keys text[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          -- NULL means every actor: those with statements and those with a learner row left behind.
          keys text[] := coalesce(actor_keys, ARRAY(SELECT s.actor_key FROM app.statements s UNION SELECT l.actor_key FROM app.learners l));
          affected_courses text[];
          titles app.course_title[];
        BEGIN
          -- The actors' statements are found actor by actor, through the actor index, whatever the planner's estimates
          -- (a rebuild reads them all): read as `actor_key = ANY (keys)`, each of these read every statement of the
          -- tenant, so deriving a few new learners cost the tenant's whole history.
          IF actor_keys IS NULL THEN
            affected_courses := ARRAY(SELECT DISTINCT s.course_iri FROM app.statements s WHERE s.course_iri IS NOT NULL);
          ELSE
            affected_courses := ARRAY(
              SELECT DISTINCT a.course_iri
              FROM unnest(actor_keys) AS k(actor_key)
              CROSS JOIN LATERAL (SELECT DISTINCT s.course_iri FROM app.statements s
                                  WHERE s.actor_key = k.actor_key AND s.course_iri IS NOT NULL) a);
            PERFORM app.apply_enrollment_outcomes(keys, -1);
          END IF;
          INSERT INTO app.learners (actor_key, display_name, region, first_seen, last_seen)
            SELECT f.actor_key, f.display_name, f.region, f.first_seen, f.last_seen FROM app.learners_from_statements(actor_keys) f
          ON CONFLICT (tenant_id, actor_key) DO UPDATE
            SET display_name = EXCLUDED.display_name, region = EXCLUDED.region,
                first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen;
          DELETE FROM app.learners l
            WHERE l.actor_key = ANY (keys)
              AND NOT EXISTS (SELECT 1 FROM app.statements s
                              WHERE s.actor_key = l.actor_key AND NOT s.voided AND s.voids IS NULL);

          -- Titles from these actors' statements, merged by the statement each came from; a course whose title came
          -- from a statement that no longer counts is read again whole. A rebuild (NULL) read every statement, so its
          -- titles replace the stored ones.
          titles := ARRAY(SELECT ROW(t.*)::app.course_title FROM app.course_titles_from_statements(actor_keys) t);
          PERFORM app.merge_course_titles(titles, affected_courses, actor_keys IS NULL);
          -- A course with a counted statement of these actors (a title candidate) still has one.
          DELETE FROM app.courses c
            WHERE c.course_iri = ANY (affected_courses)
              AND NOT c.course_iri = ANY (ARRAY(SELECT t.course_iri FROM unnest(titles) t))
              AND NOT EXISTS (SELECT 1 FROM app.statements s WHERE s.course_iri = c.course_iri AND NOT s.voided AND s.voids IS NULL);

          DELETE FROM app.enrollments e USING app.learners l
            WHERE e.learner_id = l.id AND l.actor_key = ANY (keys);
          INSERT INTO app.enrollments (learner_id, course_id, enrolled_at, completed_at, cohort, registration)
            SELECT l.id, c.id, f.enrolled_at, f.completed_at, f.cohort, f.registration
            FROM app.enrollments_from_statements(actor_keys) f
            JOIN app.learners l ON l.actor_key = f.actor_key
            JOIN app.courses c ON c.course_iri = f.course_iri;
          IF actor_keys IS NOT NULL THEN
            PERFORM app.apply_enrollment_outcomes(keys, 1);
          END IF;
        END
        $$
        """,

        // Migration 37's merge, with the course titles merged.
        """
        CREATE OR REPLACE FUNCTION app.merge_new_learning_facts(keys text[], since timestamptz[], look_back boolean[], overlap interval) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          merged_actors text[];
          read_since timestamptz[];
          fresh app.statement_facts[];
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
                       s.actor_name, s.learner_region, NOT s.voided AND s.voids IS NULL, s.course_title)::app.statement_facts
            FROM unnest(merged_actors, read_since) AS u(actor_key, since)
            JOIN app.statements s ON s.actor_key = u.actor_key AND s.stored >= u.since);
          -- Each course's earliest counted statement with a title among the new ones, merged against the one its
          -- title came from (migration 38), instead of reading all of the course's statements again.
          -- One sort: a course's titled statements first, earliest first; a course with none gets no title.
          PERFORM app.merge_course_titles(ARRAY(
            SELECT DISTINCT ON (s.course_iri)
                   ROW(s.course_iri, s.course_title,
                       CASE WHEN s.course_title IS NOT NULL THEN s."timestamp" END,
                       CASE WHEN s.course_title IS NOT NULL THEN s.id END)::app.course_title
            FROM unnest(fresh) s
            WHERE s.counted AND s.course_iri IS NOT NULL
            ORDER BY s.course_iri, s.course_title IS NULL, s."timestamp", s.id), NULL, false);

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
            -- As in record_derivation_provenance: found by learner, never by scanning a course's enrollments per row.
            LEFT JOIN app.enrollments e ON e.learner_id = l.id AND e.course_id IS NOT DISTINCT FROM c.id
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
    ])
}
