extension Migration {
    /// Derivation from the new statements only (architecture decision 36).
    ///
    /// Deriving a queued actor re-read the actor's whole history, so a pass cost what the touched actors
    /// had ever sent, and derivation slowed as history grew. Every derived value is a merge that does not
    /// care how often or in which order it sees a statement — earliest and latest time, and "the first
    /// non-null value by (timestamp, id)" — so an actor already derived can take its new statements alone,
    /// given the (timestamp, id) each first-by-order value came from (the provenance columns below) and
    /// how far its statements were read (`derived_through`, the newest `stored` merged). The merge re-reads
    /// statements stored up to `overlap` before that, because a batch's `stored` is its transaction's
    /// clock and it may commit after a later batch was derived; reading one twice changes nothing.
    ///
    /// What cannot merge goes the full way, as before: a voided statement takes its contribution away
    /// (ingest queues its actor as `full`), and an actor with no `derived_through` (new, or derived before
    /// this migration) is derived from all of its statements once.
    static let incrementalDerivation = Migration(version: 16, name: "incremental derivation", statements: [
        """
        ALTER TABLE app.learners
          ADD COLUMN derived_through timestamptz,
          ADD COLUMN name_at timestamptz, ADD COLUMN name_from uuid,
          ADD COLUMN region_at timestamptz, ADD COLUMN region_from uuid
        """,
        """
        ALTER TABLE app.enrollments
          ADD COLUMN cohort_at timestamptz, ADD COLUMN cohort_from uuid,
          ADD COLUMN registration_at timestamptz, ADD COLUMN registration_from uuid
        """,
        // An actor's statements in `stored` order: the merge reads only the tail of an actor's history.
        "CREATE INDEX statements_tenant_actor_stored ON app.statements (tenant_id, actor_key, stored)",
        "DROP INDEX app.statements_tenant_actor",
        "ALTER TABLE app.learning_facts_queue ADD COLUMN full_derivation boolean NOT NULL DEFAULT false",

        // The provenance of the full path's values, for the actors `keys`: which statement each
        // first-by-order value came from, and how far the actor's statements were read.
        """
        CREATE FUNCTION app.record_derivation_provenance(keys text[]) RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          UPDATE app.learners l
          SET derived_through = p.derived_through, name_at = p.name_at, name_from = p.name_from,
              region_at = p.region_at, region_from = p.region_from
          FROM (
            SELECT s.actor_key, max(s.stored) AS derived_through,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_from,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_from
            FROM app.statements s WHERE s.actor_key = ANY (keys)
            GROUP BY s.actor_key
          ) p
          WHERE l.actor_key = p.actor_key;
          UPDATE app.enrollments e
          SET cohort_at = p.cohort_at, cohort_from = p.cohort_from, registration_at = p.registration_at, registration_from = p.registration_from
          FROM (
            SELECT l.id AS learner_id, c.id AS course_id,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1] AS cohort_from,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration_from
            FROM app.statements s
            JOIN app.learners l ON l.actor_key = s.actor_key
            JOIN app.courses c ON c.course_iri = s.course_iri
            WHERE s.actor_key = ANY (keys) AND NOT s.voided AND s.voids IS NULL
            GROUP BY 1, 2
          ) p
          WHERE e.learner_id = p.learner_id AND e.course_id = p.course_id;
        $$
        """,
        "REVOKE ALL ON FUNCTION app.record_derivation_provenance(text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.record_derivation_provenance(text[]) TO tenantscope_tenant",

        // The statements of already-derived actors stored since their `derived_through` minus `overlap`:
        // a range scan of (tenant_id, actor_key, stored) per actor.
        """
        CREATE FUNCTION app.new_statements_of(keys text[], overlap interval) RETURNS SETOF app.statements
        LANGUAGE sql STABLE SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT s.* FROM app.learners l
          JOIN app.statements s ON s.actor_key = l.actor_key AND s.stored > l.derived_through - overlap
          WHERE l.actor_key = ANY (keys)
        $$
        """,
        "REVOKE ALL ON FUNCTION app.new_statements_of(text[], interval) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.new_statements_of(text[], interval) TO tenantscope_tenant",

        // Merges the statements of already-derived actors stored since their `derived_through` (minus
        // `overlap`) into their learner and enrollment rows and the courses they name.
        """
        CREATE FUNCTION app.merge_new_learning_facts(keys text[], overlap interval) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          affected_courses text[];
        BEGIN
          PERFORM app.apply_enrollment_outcomes(keys, -1);

          affected_courses := ARRAY(SELECT DISTINCT s.course_iri FROM app.new_statements_of(keys, overlap) s
                                    WHERE s.course_iri IS NOT NULL AND NOT s.voided AND s.voids IS NULL);
          INSERT INTO app.courses (course_iri, title)
            SELECT a.course_iri,
                   (SELECT s.course_title FROM app.statements s
                    WHERE s.course_iri = a.course_iri AND NOT s.voided AND s.voids IS NULL AND s.course_title IS NOT NULL
                    ORDER BY s."timestamp", s.id LIMIT 1)
            FROM unnest(affected_courses) AS a(course_iri)
          ON CONFLICT (tenant_id, course_iri) DO UPDATE SET title = EXCLUDED.title;

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
              FROM app.new_statements_of(keys, overlap) s
              WHERE NOT s.voided AND s.voids IS NULL AND s.course_iri IS NOT NULL
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
                THEN EXCLUDED.registration_at ELSE e.registration_at END;

          -- Learners last: the reads above select by the `derived_through` this moves.
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
                   min(s."timestamp") FILTER (WHERE NOT s.voided AND s.voids IS NULL) AS first_seen,
                   max(s."timestamp") FILTER (WHERE NOT s.voided AND s.voids IS NULL) AS last_seen,
                   (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS display_name,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS name_from,
                   (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region,
                   (array_agg(s."timestamp" ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_at,
                   (array_agg(s.id ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL AND NOT s.voided AND s.voids IS NULL))[1] AS region_from
            FROM app.new_statements_of(keys, overlap) s GROUP BY s.actor_key
          ) n
          WHERE l.actor_key = n.actor_key;

          PERFORM app.apply_enrollment_outcomes(keys, 1);
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.merge_new_learning_facts(text[], interval) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.merge_new_learning_facts(text[], interval) TO tenantscope_tenant",

        // The full path (migration 13's) now records provenance too.
        """
        CREATE OR REPLACE FUNCTION app.refresh_learning_facts_fully(actor_keys text[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          PERFORM app.refresh_learning_facts(actor_keys);
          PERFORM app.record_derivation_provenance(
            coalesce(actor_keys, ARRAY(SELECT l.actor_key FROM app.learners l)));
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.refresh_learning_facts_fully(text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.refresh_learning_facts_fully(text[]) TO tenantscope_tenant",

        // Takes up to `max_rows` queued rows, oldest first: actors queued for a full derivation (voiding),
        // new actors and actors derived before this migration go the full way; the rest merge their new
        // statements. Returns how many actors were derived (0: the queue was empty).
        """
        CREATE OR REPLACE FUNCTION app.derive_queued_learning_facts(max_rows integer) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          taken_full text[];
          taken_plain text[];
          full_keys text[];
          merge_keys text[];
        BEGIN
          PERFORM app.lock_tenant_derivation();
          WITH taken AS (
            DELETE FROM app.learning_facts_queue q
            WHERE q.seq IN (SELECT o.seq FROM app.learning_facts_queue o ORDER BY o.seq LIMIT max_rows)
            RETURNING q.actor_key, q.full_derivation
          )
          SELECT array_agg(DISTINCT t.actor_key) FILTER (WHERE t.full_derivation),
                 array_agg(DISTINCT t.actor_key) FILTER (WHERE NOT t.full_derivation)
          INTO taken_full, taken_plain FROM taken t;
          IF taken_full IS NULL AND taken_plain IS NULL THEN
            RETURN 0;
          END IF;
          full_keys := ARRAY(
            SELECT k FROM unnest(taken_full) k
            UNION
            SELECT k FROM unnest(taken_plain) k
            WHERE NOT EXISTS (SELECT 1 FROM app.learners l WHERE l.actor_key = k AND l.derived_through IS NOT NULL));
          merge_keys := ARRAY(SELECT k FROM unnest(taken_plain) k WHERE k <> ALL (full_keys) ORDER BY k);
          IF cardinality(full_keys) > 0 THEN
            PERFORM app.refresh_learning_facts_fully(full_keys);
          END IF;
          IF cardinality(merge_keys) > 0 THEN
            PERFORM app.merge_new_learning_facts(merge_keys, interval '2 hours');
          END IF;
          RETURN cardinality(full_keys) + cardinality(merge_keys);
        END
        $$
        """,
    ])
}
