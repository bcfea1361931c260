extension Migration {
    /// The tenant gate refuses a tenant this database has no row for, and a write holds the tenant's row until it
    /// commits (architecture decision 94).
    ///
    /// A write that passed the gate while `app.delete_tenant` ran had its foreign-key check wait for the deletion and
    /// then fail (23503: a 500), and the gate let a deleted tenant's requests through in the second or so before the
    /// server's credential cache noticed (`NULL <> 'pool'` is not true). A write now takes `FOR KEY SHARE` on the
    /// tenant's row in the gate, the lock its foreign-key checks take anyway: a deletion waits for writes in flight
    /// (and removes what they stored), and a write that comes during one waits for it and then finds no row. No row,
    /// for a read or a write, is TSM03, answered like the gate's other refusals (503 with `Retry-After`: the retry meets
    /// the credential check of a tenant that is gone, or the right cluster of one whose placement this process has not
    /// yet seen). Replaced whole, with migration 41's plan cache setting.
    static let gateHoldsTheTenant = Migration(version: 51, name: "gate holds the tenant", statements: [
        """
        CREATE OR REPLACE FUNCTION gate.tenant_gate(p_context text, p_write boolean) RETURNS boolean
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET plan_cache_mode = force_generic_plan
        AS $$
        DECLARE
          tenant uuid := app.current_tenant();
          here text;
        BEGIN
          IF p_context IS DISTINCT FROM current_setting('app.tenant_ctx', true) THEN
            RAISE EXCEPTION 'the gate is asked about a context other than the transaction''s' USING ERRCODE = '22023';
          END IF;
          IF tenant IS NULL THEN
            RETURN true;  -- no valid context: row-level security shows nothing and refuses every write
          END IF;
          -- A move's hold first: a write a move refuses must not wait for the tenant's row, which a move off this
          -- cluster deletes with everything else in one long transaction.
          IF p_write AND NOT pg_try_advisory_xact_lock_shared(hashtextextended('tenantscope.move.' || tenant::text, 0)) THEN
            RAISE EXCEPTION 'the tenant is being moved to another cluster' USING ERRCODE = 'TSM02';
          END IF;
          IF p_write THEN
            SELECT t.cluster INTO here FROM app.tenants t WHERE t.id = tenant FOR KEY SHARE;
          ELSE
            SELECT t.cluster INTO here FROM app.tenants t WHERE t.id = tenant;
          END IF;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'the tenant does not exist on this cluster' USING ERRCODE = 'TSM03';
          END IF;
          IF here <> 'pool' OR EXISTS (SELECT 1 FROM app_private.departed_tenants d WHERE d.tenant_id = tenant) THEN
            RAISE EXCEPTION 'the tenant''s data is not on this cluster' USING ERRCODE = 'TSM01';
          END IF;
          RETURN true;
        END
        $$
        """,
    ])
}
