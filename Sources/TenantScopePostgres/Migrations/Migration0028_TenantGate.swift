extension Migration {
    /// The tenant gate (architecture decision 49): every tenant transaction asks the database it runs on
    /// whether the tenant's data is here, and a writing one also whether the tenant is being moved.
    ///
    /// - A tenant is not here when this database's `app.tenants` places it elsewhere (the control database
    ///   keeps every tenant's row, with its cluster) or `app_private.departed_tenants` says it moved away (a
    ///   dedicated cluster's database drops the row of a tenant moved off it). A transaction routed by a stale
    ///   placement (a server that has not yet seen a move) is refused with SQLSTATE TSM01 instead of reading
    ///   nothing or writing rows nobody will see.
    /// - A move holds `pg_advisory_lock` on the tenant's move key in the source database while it copies;
    ///   writes take the same key shared for their transaction, and refuse at once (TSM02) when they cannot.
    ///   So a write either committed before the copy began (and is copied) or is refused (503, retried
    ///   later against the new cluster): none is lost.
    /// - The gate takes the context the transaction's first statement has just set as its argument, which
    ///   orders it after that `set_config`; it reads the tenant from the verified context only.
    /// - The tenant login (NOINHERIT) calls the gate in the statement that takes up the tenant role, before it
    ///   has the role's privileges, so the gate lives in a schema of its own, `gate`, which the login may use:
    ///   USAGE on `app` would let it see table sizes and call functions the tenant role is refused.
    static let tenantGate = Migration(version: 28, name: "tenant gate", statements: [
        "CREATE SCHEMA gate",
        "REVOKE ALL ON SCHEMA gate FROM PUBLIC",
        "GRANT USAGE ON SCHEMA gate TO tenantscope_tenant, tenantscope_app_tenant",
        """
        CREATE TABLE app_private.departed_tenants (
          tenant_id uuid PRIMARY KEY,
          moved_to text NOT NULL,
          moved_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        """
        CREATE FUNCTION gate.tenant_gate(p_context text, p_write boolean) RETURNS boolean
        LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
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
          SELECT t.cluster INTO here FROM app.tenants t WHERE t.id = tenant;
          IF here <> 'pool' OR EXISTS (SELECT 1 FROM app_private.departed_tenants d WHERE d.tenant_id = tenant) THEN
            RAISE EXCEPTION 'the tenant''s data is not on this cluster' USING ERRCODE = 'TSM01';
          END IF;
          IF p_write AND NOT pg_try_advisory_xact_lock_shared(hashtextextended('tenantscope.move.' || tenant::text, 0)) THEN
            RAISE EXCEPTION 'the tenant is being moved to another cluster' USING ERRCODE = 'TSM02';
          END IF;
          RETURN true;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION gate.tenant_gate(text, boolean) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION gate.tenant_gate(text, boolean) TO tenantscope_tenant, tenantscope_app_tenant",
    ])
}
