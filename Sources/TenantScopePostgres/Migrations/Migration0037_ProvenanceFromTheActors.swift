extension Migration {
    /// A full derivation's enrollment provenance is read from the derived actors' statements, found by actor
    /// (issue 16, architecture decision 66).
    ///
    /// `app.record_derivation_provenance` (migration 16) selected the statements to aggregate with
    /// `s.actor_key = ANY (keys)`. When the planner's statistics lag the tables, as they do for the enrollments
    /// and learners the same derivation has just written and on any young cluster, it read the statements course
    /// by course and tested each against the whole array (a linear search per row): in the first catch-up of 20,000
    /// statements from 3,000 new learners this one statement took 2.3 s of 6.6 s. Joining `unnest(keys)` instead was
    /// not enough: the planner put the keys inside a nested loop over the course's statements. Now each derived
    /// actor's statements are aggregated in a `LATERAL` subquery of the actor (an aggregate, which the planner cannot
    /// flatten into the join and reorder), so they are always found through the actor index, one actor at a time; the
    /// answer is the same. Each enrollment to update is then found by its learner: the course is
    /// compared with `IS NOT DISTINCT FROM` (the same for a column that is never NULL), which no index serves, so the
    /// planner cannot again pick the course index and scan a course's enrollments once per learner. The incremental
    /// merge (migration 31) looks up the enrollments its new statements would change the same way.
    static let provenanceFromTheActors = Migration(version: 37, name: "provenance from the actors", statements: [
        """
        CREATE OR REPLACE FUNCTION app.record_derivation_provenance(keys text[]) RETURNS void
        LANGUAGE sql SET search_path = pg_catalog, pg_temp
        AS $$
          UPDATE app.learners l
          SET derived_through = p.derived_through, name_at = p.name_at, name_from = p.name_from,
              region_at = p.region_at, region_from = p.region_from
          FROM (
            SELECT k.actor_key, a.*
            FROM unnest(keys) AS k(actor_key)
            CROSS JOIN LATERAL (
              SELECT max(s.stored) AS derived_through,
                     (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_at,
                     (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_from,
                     (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_at,
                     (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_from
              FROM app.statements s
              WHERE s.actor_key = k.actor_key
              HAVING count(*) > 0
            ) a
          ) p
          WHERE l.actor_key = p.actor_key;
          UPDATE app.enrollments e
          SET cohort_at = p.cohort_at, cohort_from = p.cohort_from, registration_at = p.registration_at, registration_from = p.registration_from
          FROM (
            SELECT l.id AS learner_id, c.id AS course_id, a.cohort_at, a.cohort_from, a.registration_at, a.registration_from
            FROM unnest(keys) AS k(actor_key)
            JOIN app.learners l ON l.actor_key = k.actor_key
            CROSS JOIN LATERAL (
              SELECT s.course_iri,
                     (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_at,
                     (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_from,
                     (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_at,
                     (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_from
              FROM app.statements s
              WHERE s.actor_key = k.actor_key AND s.course_iri IS NOT NULL AND NOT s.voided AND s.voids IS NULL
              GROUP BY s.course_iri
            ) a
            JOIN app.courses c ON c.course_iri = a.course_iri
          ) p
          -- The course compared so that no index can take it: an enrollment is then found by its learner (the
          -- primary key's prefix, a learner's few courses) or by hashing, never by scanning a course's enrollments
          -- for each learner, which stale estimates of a table this derivation just filled made the planner choose.
          WHERE e.learner_id = p.learner_id AND e.course_id IS NOT DISTINCT FROM p.course_id;
        $$
        """,

        // Migration 31's merge, with the enrollments its new statements would change found the same way.
        """
        CREATE OR REPLACE FUNCTION app.merge_new_learning_facts(keys text[], since timestamptz[], look_back boolean[], overlap interval) RETURNS void
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
