extension Migration {
    /// Ingest no longer re-derives learners, courses and enrollments inside each batch: it queues the
    /// touched actors in the batch's own transaction (a transactional outbox), and the roll-up service
    /// derives the queue in the background (architecture decision 18). Batches of one tenant no longer
    /// wait on each other's derivation, and an actor seen by many batches is derived once per pass.
    static let derivationQueue = Migration(version: 7, name: "derivation queue", statements: [
        // Plain rows, no uniqueness on actor_key: a batch only ever inserts, so it never waits on another
        // batch or on the deriving service, and the service's DELETE takes exactly the rows committed before
        // it looked. A row committed later stays queued for the next pass.
        """
        CREATE TABLE app.learning_facts_queue (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          seq bigint GENERATED ALWAYS AS IDENTITY,
          actor_key text NOT NULL,
          queued_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, seq)
        )
        """,
        "CALL app_private.protect_tenant_table('app.learning_facts_queue')",

        // Derives up to `max_rows` queued rows of the current tenant, oldest first; returns how many actors
        // were derived (0: the queue was empty). Under the tenant's derivation lock, like catch_up_rollups.
        """
        CREATE FUNCTION app.derive_queued_learning_facts(max_rows integer) RETURNS integer
        LANGUAGE plpgsql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          keys text[];
        BEGIN
          PERFORM app.lock_tenant_derivation();
          WITH taken AS (
            DELETE FROM app.learning_facts_queue q
            WHERE q.seq IN (SELECT o.seq FROM app.learning_facts_queue o ORDER BY o.seq LIMIT max_rows)
            RETURNING q.actor_key
          )
          SELECT array_agg(DISTINCT t.actor_key ORDER BY t.actor_key) INTO keys FROM taken t;
          IF keys IS NULL THEN
            RETURN 0;
          END IF;
          PERFORM app.refresh_learning_facts(keys);
          RETURN array_length(keys, 1);
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.derive_queued_learning_facts(integer) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.derive_queued_learning_facts(integer) TO tenantscope_tenant",
    ])
}
