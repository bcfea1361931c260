extension Migration {
    /// Tenant tiers and their limits (architecture decision 47): each tier caps one tenant's concurrent report
    /// work, all of the tier's tenants' report work together (its connection budget), and each tenant's
    /// rate on the API (requests per second) and on the LRS (statements, events and other requests per
    /// second); a tenant may override its concurrency and rates.
    ///
    /// Both tables are operator configuration in `app_private`, which no application role reaches: the
    /// server reads the resolved limits through `app.tenant_limits()` (tenant ids, tier names and numbers,
    /// nothing a tenant wrote). `app.tenants.tier` now names a tier that exists; a tier of an existing tenant
    /// that is none of the three becomes a tier with the `standard` limits, so no tenant loses its limits.
    static let tenantLimits = Migration(version: 25, name: "tenant tiers and limits", statements: [
        """
        CREATE TABLE app_private.tenant_tiers (
          name text PRIMARY KEY CHECK (length(name) BETWEEN 1 AND 64),
          concurrency integer CHECK (concurrency BETWEEN 1 AND 10000),
          connection_budget integer CHECK (connection_budget BETWEEN 1 AND 10000),
          api_rate double precision CHECK (api_rate > 0 AND api_rate <= 1000000),
          api_burst integer CHECK (api_burst BETWEEN 1 AND 1000000),
          ingest_rate double precision CHECK (ingest_rate > 0 AND ingest_rate <= 1000000),
          ingest_burst integer CHECK (ingest_burst BETWEEN 1 AND 1000000),
          updated_at timestamptz NOT NULL DEFAULT now(),
          CHECK ((api_rate IS NULL) = (api_burst IS NULL)),
          CHECK ((ingest_rate IS NULL) = (ingest_burst IS NULL))
        )
        """,
        """
        INSERT INTO app_private.tenant_tiers (name, concurrency, connection_budget, api_rate, api_burst, ingest_rate, ingest_burst) VALUES
          ('free', 1, 4, 5, 20, 20, 200),
          ('standard', 4, 32, 20, 100, 200, 2000),
          ('enterprise', 16, NULL, 200, 1000, 2000, 20000)
        """,
        """
        INSERT INTO app_private.tenant_tiers (name, concurrency, connection_budget, api_rate, api_burst, ingest_rate, ingest_burst)
        SELECT DISTINCT t.tier, s.concurrency, s.connection_budget, s.api_rate, s.api_burst, s.ingest_rate, s.ingest_burst
        FROM app.tenants t CROSS JOIN app_private.tenant_tiers s
        WHERE s.name = 'standard' AND t.tier NOT IN (SELECT name FROM app_private.tenant_tiers)
        """,
        "ALTER TABLE app.tenants ADD CONSTRAINT tenants_tier_fkey FOREIGN KEY (tier) REFERENCES app_private.tenant_tiers (name) ON UPDATE CASCADE",
        """
        CREATE TABLE app_private.tenant_limit_overrides (
          tenant_id uuid PRIMARY KEY REFERENCES app.tenants (id) ON DELETE CASCADE,
          concurrency integer CHECK (concurrency BETWEEN 1 AND 10000),
          api_rate double precision CHECK (api_rate > 0 AND api_rate <= 1000000),
          api_burst integer CHECK (api_burst BETWEEN 1 AND 1000000),
          ingest_rate double precision CHECK (ingest_rate > 0 AND ingest_rate <= 1000000),
          ingest_burst integer CHECK (ingest_burst BETWEEN 1 AND 1000000),
          updated_at timestamptz NOT NULL DEFAULT now(),
          CHECK ((api_rate IS NULL) = (api_burst IS NULL)),
          CHECK ((ingest_rate IS NULL) = (ingest_burst IS NULL))
        )
        """,
        // Each tenant's limits as they apply: an override where the tenant has one, the tier's otherwise. A rate
        // and its burst are overridden together (the CHECKs above), so the pair never mixes two sources.
        """
        CREATE FUNCTION app.tenant_limits()
        RETURNS TABLE (tenant_id uuid, tier text, concurrency integer, connection_budget integer,
                       api_rate double precision, api_burst integer, ingest_rate double precision, ingest_burst integer)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT t.id, t.tier, coalesce(o.concurrency, s.concurrency), s.connection_budget,
                 CASE WHEN o.api_rate IS NOT NULL THEN o.api_rate ELSE s.api_rate END,
                 CASE WHEN o.api_rate IS NOT NULL THEN o.api_burst ELSE s.api_burst END,
                 CASE WHEN o.ingest_rate IS NOT NULL THEN o.ingest_rate ELSE s.ingest_rate END,
                 CASE WHEN o.ingest_rate IS NOT NULL THEN o.ingest_burst ELSE s.ingest_burst END
          FROM app.tenants t
          JOIN app_private.tenant_tiers s ON s.name = t.tier
          LEFT JOIN app_private.tenant_limit_overrides o ON o.tenant_id = t.id
        $$
        """,
        "REVOKE ALL ON FUNCTION app.tenant_limits() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.tenant_limits() TO tenantscope_app",
    ])
}
