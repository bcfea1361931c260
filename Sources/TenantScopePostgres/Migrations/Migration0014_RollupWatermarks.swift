extension Migration {
    /// The roll-up watermarks of every tenant, for the server's tenant-keyed report cache (architecture
    /// decision 33): a cached answer is keyed by its tenant's `refreshed_at`, so each catch-up that changed
    /// something, and each product-event batch (which refreshes its days inline), starts new entries.
    /// Tenant ids and times only, through a function owned by the aggregates role, like migration 13's.
    static let rollupWatermarks = Migration(version: 14, name: "roll-up watermarks", statements: [
        "CREATE POLICY aggregates_read ON app.rollup_state FOR SELECT TO tenantscope_aggregates USING (true)",
        "GRANT SELECT ON app.rollup_state TO tenantscope_aggregates",
        """
        CREATE FUNCTION app.rollup_watermarks() RETURNS TABLE (tenant_id uuid, refreshed_at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT r.tenant_id, r.refreshed_at FROM app.rollup_state r $$
        """,
        "GRANT tenantscope_aggregates TO CURRENT_USER",
        "GRANT CREATE ON SCHEMA app TO tenantscope_aggregates",
        "ALTER FUNCTION app.rollup_watermarks() OWNER TO tenantscope_aggregates",
        "REVOKE CREATE ON SCHEMA app FROM tenantscope_aggregates",
        "REVOKE tenantscope_aggregates FROM CURRENT_USER",
        "REVOKE ALL ON FUNCTION app.rollup_watermarks() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.rollup_watermarks() TO tenantscope_app",

        // Product events refresh their days inside the ingest transaction, so they move the watermark
        // themselves (under the derivation lock the batch already holds: no new contention).
        """
        CREATE FUNCTION app.touch_rollup_watermark() RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$ UPDATE app.rollup_state SET refreshed_at = clock_timestamp() $$
        """,
        "REVOKE ALL ON FUNCTION app.touch_rollup_watermark() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.touch_rollup_watermark() TO tenantscope_tenant",
    ])
}
