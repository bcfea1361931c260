extension Migration {
    /// Writes name their tenant from the context without checking its signature on every row, and a derivation chunk
    /// separates its plain actors from its full ones by hashing (issue 16, architecture decision 79).
    ///
    /// Every tenant table's `tenant_id` defaulted to `app.current_tenant()`, which checks the context's HMAC: about 6
    /// µs a call, and a default is evaluated for every row. Ingest and the roll-ups already name the tenant once per
    /// statement (decision 54), but derivation inserted enrollments, learners, courses and outcome sums through the
    /// default: 71,000 checks for 60,000 statements in `bench/ingest`'s derivation, about 8 % of its time. The default
    /// is now `app.context_tenant()`: the tenant the context names, read without checking, or NULL when it names none.
    /// That is safe because the default only proposes the value: every tenant table's policy checks each written row
    /// against `(SELECT app.current_tenant())` in its `WITH CHECK`, which verifies the signature once per statement
    /// and raises for a forged or expired context before the row is written. So a forged context still writes nothing
    /// (the same error as before), and a missing one still fails the policy. The function is plain SQL, so the
    /// planner inlines it into the insert: 2–3 µs a row, most of it the pattern that keeps a context whose first
    /// part is no UUID from failing the cast instead of the policy.
    ///
    /// `app.derive_queued_learning_facts` (migration 36) took the plain actors that are not derived in full with
    /// `<> ALL (full_keys)` three times: every plain actor compared with every full one, quadratic in the chunk
    /// (up to 5,000 actors). It now takes them in one statement with an anti-join the planner hashes.
    static let contextTenantDefault = Migration(version: 46, name: "context tenant default", statements: [
        // The claimed tenant: the context's first part when it is a UUID. What `app.current_tenant()` returns for a
        // valid context; for any other, a value the policies' `WITH CHECK` refuses. No `SET search_path`, which would
        // keep the planner from inlining it: every name in it is qualified with `pg_catalog` instead.
        """
        CREATE FUNCTION app.context_tenant() RETURNS uuid
        LANGUAGE sql STABLE PARALLEL SAFE
        AS $$
          SELECT CASE WHEN pg_catalog.current_setting('app.tenant_ctx', true) OPERATOR(pg_catalog.~)
                             '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}[.]'
                      THEN pg_catalog.left(pg_catalog.current_setting('app.tenant_ctx', true), 36)::pg_catalog.uuid END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.context_tenant() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.context_tenant() TO tenantscope_tenant, tenantscope_app, tenantscope_platform",
        // Every table protected so far, and every table protected from now on. A default is found by what it calls
        // (its dependency), not by its text, which depends on the session's search_path.
        """
        DO $$
        DECLARE
          target regclass;
        BEGIN
          FOR target IN
            SELECT a.attrelid::regclass FROM pg_attrdef d
            JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
            WHERE a.attname = 'tenant_id'
              AND EXISTS (SELECT 1 FROM pg_depend p
                          WHERE p.classid = 'pg_attrdef'::regclass AND p.objid = d.oid
                            AND p.refclassid = 'pg_proc'::regclass AND p.refobjid = 'app.current_tenant()'::regprocedure)
            ORDER BY 1
          LOOP
            EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT app.context_tenant()', target);
          END LOOP;
        END
        $$
        """,
        """
        CREATE OR REPLACE PROCEDURE app_private.protect_tenant_table(target regclass)
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT app.context_tenant()', target);
          EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
          EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
          EXECUTE format(
            'CREATE POLICY tenant_isolation ON %s USING (tenant_id = (SELECT app.current_tenant())) '
            'WITH CHECK (tenant_id = (SELECT app.current_tenant()))', target);
          EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO tenantscope_tenant', target);
        END
        $$
        """,

        // Migration 36's derivation, with the plain actors taken apart from the full ones by hashing.
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
          WITH chosen AS (
            -- Every row holds at least one actor, so the first `max_rows` rows are all a chunk can take.
            SELECT w.seq FROM (
              SELECT o.seq, sum(coalesce(cardinality(o.actor_keys), 1)) OVER (ORDER BY o.seq) - coalesce(cardinality(o.actor_keys), 1) AS before
              FROM (SELECT f.seq, f.actor_keys FROM app.learning_facts_queue f ORDER BY f.seq LIMIT max_rows) o
            ) w
            WHERE w.before < max_rows
          ), taken AS (
            DELETE FROM app.learning_facts_queue q
            WHERE q.seq IN (SELECT c.seq FROM chosen c)
            RETURNING q.actor_key, q.actor_keys, q.full_derivation, q.stored_from, q.stored_froms
          ), entries AS (
            SELECT t.actor_key, t.full_derivation, t.stored_from FROM taken t WHERE t.actor_keys IS NULL
            UNION ALL
            SELECT u.actor_key, t.full_derivation, u.stored_from
            FROM taken t, unnest(t.actor_keys, t.stored_froms) AS u(actor_key, stored_from)
            WHERE t.actor_keys IS NOT NULL
          ), plain AS (
            -- An actor's new statements begin at the earliest `stored` of its rows; a row that does not say
            -- adds the look-back.
            SELECT e.actor_key, min(e.stored_from) AS since, bool_or(e.stored_from IS NULL) AS look_back
            FROM entries e WHERE NOT e.full_derivation GROUP BY e.actor_key
          )
          SELECT (SELECT array_agg(DISTINCT e.actor_key) FROM entries e WHERE e.full_derivation),
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
          -- The plain actors that are not derived in full, in one pass that finds them by hashing (`<> ALL` compared
          -- every plain actor with every full one, three times over).
          SELECT coalesce(array_agg(p.k ORDER BY p.k), '{}'), coalesce(array_agg(p.since ORDER BY p.k), '{}'),
                 coalesce(array_agg(p.look_back ORDER BY p.k), '{}')
          INTO merge_keys, merge_since, merge_look_back
          FROM unnest(taken_plain, plain_since, plain_look_back) AS p(k, since, look_back)
          WHERE NOT EXISTS (SELECT 1 FROM unnest(full_keys) AS f(k) WHERE f.k = p.k);
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
    ])
}
