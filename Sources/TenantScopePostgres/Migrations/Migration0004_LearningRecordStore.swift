extension Migration {
    /// The Learning Record Store: statement columns the derived tables need, per-tenant LRS credentials,
    /// and the SQL that keeps learners, courses and enrollments (and feature-usage roll-ups) consistent with
    /// what was ingested (docs/xapi-mapping.md); learner-activity roll-ups are the roll-up service's
    /// (migration 5). All derivation runs as the tenant role inside the tenant's scoped transaction, so
    /// row-level security confines it to that tenant.
    static let learningRecordStore = Migration(version: 4, name: "learning record store", statements: [
        // Facts read out of each statement by StatementFacts (Swift): the one extractor of the mapping.
        """
        ALTER TABLE app.statements
          ADD COLUMN actor_name text,
          ADD COLUMN course_title text,
          ADD COLUMN completes_course boolean NOT NULL DEFAULT false,
          ADD COLUMN cohort text,
          ADD COLUMN learner_region text,
          ADD COLUMN voids uuid
        """,
        "CREATE INDEX statements_tenant_course ON app.statements (tenant_id, course_iri, \"timestamp\", id) WHERE course_iri IS NOT NULL",
        "CREATE INDEX statements_tenant_voids ON app.statements (tenant_id, voids) WHERE voids IS NOT NULL",
        "CREATE INDEX statements_tenant_registration ON app.statements (tenant_id, registration) WHERE registration IS NOT NULL",
        "CREATE INDEX statements_tenant_verb ON app.statements (tenant_id, verb_id, stored)",
        "CREATE INDEX statements_tenant_object ON app.statements (tenant_id, object_id)",

        // LRS credentials are looked up before any tenant is known (the key names it), so they live in
        // app_private, which no application role can reach; only the SECURITY DEFINER lookup below can.
        // The secret itself never reaches the database: the server sends its SHA-256 (secrets are 32
        // random bytes, so a fast hash is enough; there is nothing to brute-force).
        """
        CREATE TABLE app_private.lrs_credentials (
          key text PRIMARY KEY CHECK (key ~ '^lrs_[0-9a-f]{20}$'),
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          secret_sha256 text NOT NULL CHECK (secret_sha256 ~ '^[0-9a-f]{64}$'),
          label text,
          created_at timestamptz NOT NULL DEFAULT now(),
          revoked_at timestamptz
        )
        """,
        "CREATE INDEX lrs_credentials_tenant ON app_private.lrs_credentials (tenant_id)",
        """
        CREATE FUNCTION app.lrs_credential_tenant(presented_key text, presented_secret_sha256 text) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          -- Parameter names differ from every column name: in SQL functions a column would win.
          SELECT c.tenant_id FROM app_private.lrs_credentials c
          WHERE c.key = presented_key AND c.revoked_at IS NULL AND c.secret_sha256 = lower(presented_secret_sha256)
        $$
        """,
        "REVOKE ALL ON FUNCTION app.lrs_credential_tenant(text, text) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.lrs_credential_tenant(text, text) TO tenantscope_app",

        // Serializes derivation per tenant (two batches refreshing the same learner or day would otherwise
        // race). Application roles may not take advisory locks themselves; this takes exactly one, keyed
        // by the verified tenant context, and only for the rest of the transaction.
        """
        CREATE FUNCTION app.lock_tenant_derivation() RETURNS void
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          tenant uuid := app.current_tenant();
        BEGIN
          IF tenant IS NULL THEN
            RAISE EXCEPTION 'no tenant context';
          END IF;
          PERFORM pg_advisory_xact_lock(hashtextextended('tenantscope.derive.' || tenant::text, 0));
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.lock_tenant_derivation() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.lock_tenant_derivation() TO tenantscope_tenant",

        // Recomputes learners, courses and enrollments of the given actors (NULL: every actor) from their
        // statements that are neither voided nor voiding. Mirrors LearningFacts (Swift), the reference model.
        """
        CREATE FUNCTION app.refresh_learning_facts(actor_keys text[]) RETURNS void
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          affected_courses text[] := ARRAY(
            SELECT DISTINCT s.course_iri FROM app.statements s
            WHERE s.course_iri IS NOT NULL AND (actor_keys IS NULL OR s.actor_key = ANY (actor_keys)));
        BEGIN

          -- Learners: upsert those with activity left, delete those without.
          INSERT INTO app.learners (actor_key, display_name, region, first_seen, last_seen)
            SELECT s.actor_key,
                   (array_agg(s.actor_name ORDER BY s."timestamp", s.id) FILTER (WHERE s.actor_name IS NOT NULL))[1],
                   (array_agg(s.learner_region ORDER BY s."timestamp", s.id) FILTER (WHERE s.learner_region IS NOT NULL))[1],
                   min(s."timestamp"), max(s."timestamp")
            FROM app.statements s
            WHERE NOT s.voided AND s.voids IS NULL AND (actor_keys IS NULL OR s.actor_key = ANY (actor_keys))
            GROUP BY s.actor_key
          ON CONFLICT (tenant_id, actor_key) DO UPDATE
            SET display_name = EXCLUDED.display_name, region = EXCLUDED.region,
                first_seen = EXCLUDED.first_seen, last_seen = EXCLUDED.last_seen;
          DELETE FROM app.learners l
            WHERE (actor_keys IS NULL OR l.actor_key = ANY (actor_keys))
              AND NOT EXISTS (SELECT 1 FROM app.statements s
                              WHERE s.actor_key = l.actor_key AND NOT s.voided AND s.voids IS NULL);

          -- Courses the actors' statements touch: title from the earliest statement that names one.
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

          -- Enrollments of the actors: recomputed whole.
          DELETE FROM app.enrollments e USING app.learners l
            WHERE e.learner_id = l.id AND (actor_keys IS NULL OR l.actor_key = ANY (actor_keys));
          INSERT INTO app.enrollments (learner_id, course_id, enrolled_at, completed_at, cohort, registration)
            SELECT l.id, c.id, min(s."timestamp"),
                   min(s."timestamp") FILTER (WHERE s.completes_course),
                   coalesce((array_agg(s.cohort ORDER BY s."timestamp", s.id) FILTER (WHERE s.cohort IS NOT NULL))[1],
                            to_char(min(s."timestamp") AT TIME ZONE 'UTC', 'YYYY-MM')),
                   (array_agg(s.registration ORDER BY s."timestamp", s.id) FILTER (WHERE s.registration IS NOT NULL))[1]
            FROM app.statements s
            JOIN app.learners l ON l.actor_key = s.actor_key
            JOIN app.courses c ON c.course_iri = s.course_iri
            WHERE NOT s.voided AND s.voids IS NULL AND (actor_keys IS NULL OR s.actor_key = ANY (actor_keys))
            GROUP BY l.id, c.id;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.refresh_learning_facts(text[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.refresh_learning_facts(text[]) TO tenantscope_tenant",

        // Feature-usage roll-ups recomputed for the days an event batch touched (distinct actors per day
        // cannot be kept by deltas without storing the actors).
        """
        CREATE FUNCTION app.refresh_feature_usage_for_days(days date[]) RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          DELETE FROM app.daily_feature_usage WHERE day = ANY (days);
          INSERT INTO app.daily_feature_usage (day, feature_key, events, actors)
            SELECT d.day, e.feature_key, count(*), count(DISTINCT e.actor)
            FROM unnest(days) AS d(day)
            JOIN app.feature_events e ON e.occurred_at >= d.day::timestamp AT TIME ZONE 'UTC'
                                     AND e.occurred_at < (d.day + 1)::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1, 2;
        $$
        """,
        "REVOKE ALL ON FUNCTION app.refresh_feature_usage_for_days(date[]) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.refresh_feature_usage_for_days(date[]) TO tenantscope_tenant",

        // The full refresh of migration 3, now also leaving voiding statements out of learner activity.
        """
        CREATE OR REPLACE FUNCTION app.refresh_daily_rollups(from_day date) RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          DELETE FROM app.daily_learner_activity WHERE day >= from_day;
          INSERT INTO app.daily_learner_activity (day, learner_hash, statements)
            SELECT ("timestamp" AT TIME ZONE 'UTC')::date, md5(actor_key), count(*)
            FROM app.statements WHERE NOT voided AND voids IS NULL AND "timestamp" >= from_day::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1, 2;
          DELETE FROM app.daily_feature_usage WHERE day >= from_day;
          INSERT INTO app.daily_feature_usage (day, feature_key, events, actors)
            SELECT (occurred_at AT TIME ZONE 'UTC')::date, feature_key, count(*), count(DISTINCT actor)
            FROM app.feature_events WHERE occurred_at >= from_day::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1, 2;
        $$
        """,
    ])
}
