extension Migration {
    /// A full derivation reads the derived actors' statements actor by actor, and aggregates each actor's once (issue 16,
    /// architecture decision 67).
    ///
    /// A full derivation (new learners, or an actor whose statement was voided) read its actors' statements with
    /// `actor_key = ANY (keys)`: the course list, `app.learners_from_statements` and `app.enrollments_from_statements`.
    /// Planned on a tenant's estimates, each read every statement of the tenant and filtered it against the keys: 2,000
    /// statements of 1,473 new learners in a tenant of 100,000 cost 340 ms in those three reads, growing with the
    /// tenant's history. They now aggregate each actor in a `LATERAL` subquery, as migration 37 reads provenance,
    /// which the planner cannot flatten: always through the actor index. A rebuild (NULL) still reads every statement
    /// once, without the keys. (The course list is `app.refresh_learning_facts`'s, which migration 38 replaced with
    /// this reading already, so that function is replaced once.)
    ///
    /// Migration 37's enrollment provenance, joined in one statement with the enrollments to update, ran its per-actor
    /// aggregate once per enrollment of the actor instead of once per actor (13,502 times for 2,529 actors in a first
    /// catch-up, 0.96 s of the chunk's 2.3 s): the aggregates are now a materialized common table expression,
    /// computed before the enrollments are joined. The answers are the same.
    static let fullDerivationByActor = Migration(version: 39, name: "full derivation by actor", statements: [
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
          -- Each actor's statements are aggregated once, before any enrollment is joined: planned as one join, the
          -- aggregate ran again for every enrollment of the actor (13,502 times for 2,529 actors in a first catch-up).
          WITH p AS MATERIALIZED (
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
          )
          UPDATE app.enrollments e
          SET cohort_at = p.cohort_at, cohort_from = p.cohort_from, registration_at = p.registration_at, registration_from = p.registration_from
          FROM p
          -- The course compared so that no index can take it (migration 37): an enrollment is found by its learner.
          WHERE e.learner_id = p.learner_id AND e.course_id IS NOT DISTINCT FROM p.course_id;
        $$
        """,
        """
        CREATE OR REPLACE FUNCTION app.learners_from_statements(actor_keys text[])
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
              SELECT k.actor_key, a.display_name, a.region, a.first_seen, a.last_seen
              FROM unnest(actor_keys) AS k(actor_key)
              CROSS JOIN LATERAL (
                SELECT (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL))[1] AS display_name,
                       (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL))[1] AS region,
                       min(s."timestamp") AS first_seen, max(s."timestamp") AS last_seen
                FROM app.statements s WHERE s.actor_key = k.actor_key AND NOT s.voided AND s.voids IS NULL
                HAVING count(*) > 0
              ) a;
          END IF;
        END
        $$
        """,
        """
        CREATE OR REPLACE FUNCTION app.enrollments_from_statements(actor_keys text[])
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
              SELECT k.actor_key, a.course_iri, a.enrolled_at, a.completed_at, a.cohort, a.registration
              FROM unnest(actor_keys) AS k(actor_key)
              CROSS JOIN LATERAL (
                SELECT s.course_iri, min(s."timestamp") AS enrolled_at,
                       min(s."timestamp") FILTER (WHERE s.completes_course) AS completed_at,
                       coalesce((array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1],
                                to_char(min(s."timestamp") AT TIME ZONE 'UTC', 'YYYY-MM')) AS cohort,
                       (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1] AS registration
                FROM app.statements s
                WHERE s.actor_key = k.actor_key AND NOT s.voided AND s.voids IS NULL AND s.course_iri IS NOT NULL
                GROUP BY s.course_iri
              ) a;
          END IF;
        END
        $$
        """,
    ])
}
