extension Migration {
    /// A merge changes the outcome sums by the enrollments it changes, not by everything their learners ever enrolled
    /// in (issue 16, architecture decision 80).
    ///
    /// The merge (migration 38) read the outcome rows of every enrollment of each learner with a changed enrollment,
    /// before its writes and again after them, and applied the difference: each pass re-aggregated those learners'
    /// whole enrollment history, which grows with the learner (in `bench/ingest` a learner with one changed
    /// enrollment had about five enrollments in all). Before-and-after took about a fifth of derivation's time there. An enrollment's
    /// outcome row is a function of the enrollment and its learner's region alone, so for a learner whose region the
    /// merge leaves as it is, the difference is: minus the old row of each enrollment it changes (read in the same
    /// join that finds which change), plus its new row (what the upsert returns). Only a learner whose region moves
    /// changes every one of its enrollments' rows; those learners keep the whole before and after. The sums come out
    /// the same (the served-equals-cold and incremental-equals-rebuild tests hold them to a rebuild).
    static let enrollmentOutcomeDeltas = Migration(version: 47, name: "enrollment outcome deltas", statements: [
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
          region_actors text[];
          outcomes_before app.enrollment_outcome[];
          changed_after app.enrollment_outcome[];
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

          -- The actors whose region the new statements move (an earlier statement with a region): every outcome
          -- row of theirs changes with it, so theirs are read whole, before the writes and after.
          region_actors := ARRAY(
            SELECT r.actor_key
            FROM (SELECT s.actor_key,
                         (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_at,
                         (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND s.counted))[1] AS region_from
                  FROM unnest(fresh) s GROUP BY s.actor_key) r
            JOIN app.learners l ON l.actor_key = r.actor_key
            WHERE r.region_at IS NOT NULL AND (l.region_at IS NULL OR (r.region_at, r.region_from) < (l.region_at, l.region_from)));
          outcomes_before := ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(region_actors) o);

          -- The enrollments the new statements would change (new ones, or an earliest value that moves: the
          -- upsert's WHERE below). Most touched enrollments change nothing, so the upsert (which locks every row
          -- it finds, changed or not) does not visit them. The same join reads the outcome row each changing
          -- enrollment holds now (one enrollment each), for the learners whose region stays.
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
          SELECT coalesce(array_agg(ROW(n.*)::app.enrollment_merge), '{}'),
                 outcomes_before || coalesce(array_agg(
                   ROW((e.enrolled_at AT TIME ZONE 'UTC')::date, e.course_id, e.cohort, l.region,
                       floor(extract(epoch FROM e.completed_at - e.enrolled_at) / 86400)::int, 1)::app.enrollment_outcome)
                   FILTER (WHERE e.learner_id IS NOT NULL AND r.actor_key IS NULL), '{}')
          INTO changing, outcomes_before
          FROM unnest(candidates) n
          JOIN app.learners l ON l.actor_key = n.actor_key
          JOIN app.courses c ON c.course_iri = n.course_iri
          -- As in record_derivation_provenance: found by learner, never by scanning a course's enrollments per row.
          LEFT JOIN app.enrollments e ON e.learner_id = l.id AND e.course_id IS NOT DISTINCT FROM c.id
          LEFT JOIN unnest(region_actors) AS r(actor_key) ON r.actor_key = n.actor_key
          WHERE e.learner_id IS NULL
             OR n.enrolled_at < e.enrolled_at
             OR (n.completed_at IS NOT NULL AND (e.completed_at IS NULL OR n.completed_at < e.completed_at))
             OR (n.cohort_at IS NOT NULL AND (e.cohort_at IS NULL OR (n.cohort_at, n.cohort_from) < (e.cohort_at, e.cohort_from)))
             OR (n.registration_at IS NOT NULL
                 AND (e.registration_at IS NULL OR (n.registration_at, n.registration_from) < (e.registration_at, e.registration_from)));

          -- The upsert returns each enrollment it writes as it now is: its outcome row, for the learners whose
          -- region stays, is the other half of the difference.
          WITH written AS (
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
                     AND (e.registration_at IS NULL OR (EXCLUDED.registration_at, EXCLUDED.registration_from) < (e.registration_at, e.registration_from)))
            RETURNING e.learner_id, e.course_id, e.enrolled_at, e.completed_at, e.cohort
          )
          SELECT coalesce(array_agg(
                   ROW((w.enrolled_at AT TIME ZONE 'UTC')::date, w.course_id, w.cohort, l.region,
                       floor(extract(epoch FROM w.completed_at - w.enrolled_at) / 86400)::int, 1)::app.enrollment_outcome), '{}')
          INTO changed_after
          FROM written w
          JOIN app.learners l ON l.id = w.learner_id
          LEFT JOIN unnest(region_actors) AS r(actor_key) ON r.actor_key = l.actor_key
          WHERE r.actor_key IS NULL;

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

          -- One row per changed enrollment on either side (and the region movers' rows, grouped): the function
          -- sums equal keys before it writes.
          PERFORM app.apply_enrollment_outcome_changes(outcomes_before,
            changed_after || ARRAY(SELECT ROW(o.*)::app.enrollment_outcome FROM app.enrollment_outcomes_of(region_actors) o));
        END
        $$
        """,
    ])
}
