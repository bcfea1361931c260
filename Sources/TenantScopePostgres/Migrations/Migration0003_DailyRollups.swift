extension Migration {
    /// Per-tenant daily roll-ups the platform surface reads. Each row carries `tenant_id` and sits under
    /// the same row-level security as every tenant table; nothing here sums over several tenants.
    ///
    /// Learners appear only as `md5(actor_key)`: enough for exact distinct counts over any window, no
    /// identifiers for the platform role. `app.refresh_daily_rollups` recomputes a tenant's days from a
    /// given day on, inside that tenant's scoped transaction (RLS confines it to the tenant).
    static let dailyRollups = Migration(version: 3, name: "daily roll-ups", statements: [
        """
        CREATE TABLE app.daily_learner_activity (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          day date NOT NULL,
          learner_hash text NOT NULL,
          statements integer NOT NULL CHECK (statements > 0),
          PRIMARY KEY (tenant_id, day, learner_hash)
        )
        """,
        "CALL app_private.protect_tenant_table('app.daily_learner_activity')",
        """
        CREATE TABLE app.daily_feature_usage (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          day date NOT NULL,
          feature_key text NOT NULL,
          events integer NOT NULL CHECK (events > 0),
          actors integer NOT NULL CHECK (actors > 0),
          PRIMARY KEY (tenant_id, day, feature_key)
        )
        """,
        "CALL app_private.protect_tenant_table('app.daily_feature_usage')",
        // The platform role reads roll-ups across tenants, and nothing else of tenant data.
        "CREATE POLICY platform_read ON app.daily_learner_activity FOR SELECT TO tenantscope_platform USING (true)",
        "CREATE POLICY platform_read ON app.daily_feature_usage FOR SELECT TO tenantscope_platform USING (true)",
        "GRANT SELECT ON app.daily_learner_activity, app.daily_feature_usage TO tenantscope_platform",
        """
        CREATE FUNCTION app.refresh_daily_rollups(from_day date) RETURNS void
        LANGUAGE sql SECURITY INVOKER SET search_path = pg_catalog, pg_temp
        AS $$
          DELETE FROM app.daily_learner_activity WHERE day >= from_day;
          INSERT INTO app.daily_learner_activity (day, learner_hash, statements)
            SELECT ("timestamp" AT TIME ZONE 'UTC')::date, md5(actor_key), count(*)
            FROM app.statements WHERE NOT voided AND "timestamp" >= from_day::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1, 2;
          DELETE FROM app.daily_feature_usage WHERE day >= from_day;
          INSERT INTO app.daily_feature_usage (day, feature_key, events, actors)
            SELECT (occurred_at AT TIME ZONE 'UTC')::date, feature_key, count(*), count(DISTINCT actor)
            FROM app.feature_events WHERE occurred_at >= from_day::timestamp AT TIME ZONE 'UTC'
            GROUP BY 1, 2;
        $$
        """,
        "REVOKE ALL ON FUNCTION app.refresh_daily_rollups(date) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.refresh_daily_rollups(date) TO tenantscope_tenant",
    ])
}
