extension Migration {
    /// Tenant placement (architecture decision 49): the control database (the shared pool's primary) keeps
    /// which cluster holds each tenant, and how the server reaches each dedicated cluster.
    ///
    /// - `app_private.clusters`: one row per cluster. `pool` is this database and has no endpoint; a dedicated
    ///   cluster (`tenantscope cluster add`) has the host, port, database and TLS mode of its own TenantScope
    ///   database and the password of its server login, which the server needs to open it, as it needs this
    ///   database's own (kept in `app_private.settings` since migration 9). It also keeps the cluster's owner
    ///   login, which only the operator's commands read (to migrate the cluster, place and move tenants):
    ///   `app.dedicated_clusters()`, the server's one way in, leaves it out. A NULL region serves any region.
    /// - `app.tenants.cluster`: where the tenant's rows live. In a dedicated cluster's own database the
    ///   column is `pool` ("here"); only the control database's value routes.
    /// - Residency is a trigger, so no path (command, function, hand-written SQL as the owner) places a tenant
    ///   on a cluster of another region, or moves a cluster into a region its tenants are not in.
    /// - The server reads the clusters through `app.dedicated_clusters()` and each tenant's cluster through
    ///   `app.credential_state`, refreshed every second with the rest of the credential state.
    static let tenantPlacement = Migration(version: 27, name: "tenant placement", statements: [
        """
        CREATE TABLE app_private.clusters (
          name text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{0,30}[a-z0-9]$'),
          region text CHECK (region IS NULL OR length(region) BETWEEN 1 AND 64),
          host text CHECK (length(host) BETWEEN 1 AND 255),
          port integer CHECK (port BETWEEN 1 AND 65535),
          database text CHECK (length(database) BETWEEN 1 AND 63),
          tls text CHECK (tls IN ('disable', 'prefer', 'require')),
          app_password text,
          owner_user text,
          owner_password text,
          added_at timestamptz NOT NULL DEFAULT now(),
          CHECK ((name = 'pool') = (host IS NULL)),
          CHECK ((host IS NULL) = (port IS NULL) AND (host IS NULL) = (database IS NULL) AND (host IS NULL) = (tls IS NULL)
                 AND (host IS NULL) = (app_password IS NULL) AND (host IS NULL) = (owner_user IS NULL))
        )
        """,
        "INSERT INTO app_private.clusters (name) VALUES ('pool')",
        "ALTER TABLE app.tenants ADD COLUMN cluster text NOT NULL DEFAULT 'pool' REFERENCES app_private.clusters (name)",
        """
        CREATE FUNCTION app_private.check_tenant_residency() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          cluster_region text;
        BEGIN
          SELECT c.region INTO cluster_region FROM app_private.clusters c WHERE c.name = NEW.cluster;
          IF cluster_region IS NOT NULL AND cluster_region <> NEW.region THEN
            RAISE EXCEPTION 'residency: the cluster % is in the region %, the tenant in %', NEW.cluster, cluster_region, NEW.region
              USING ERRCODE = '23514';
          END IF;
          RETURN NEW;
        END
        $$
        """,
        """
        CREATE TRIGGER tenants_residency BEFORE INSERT OR UPDATE OF cluster, region ON app.tenants
        FOR EACH ROW EXECUTE FUNCTION app_private.check_tenant_residency()
        """,
        """
        CREATE FUNCTION app_private.check_cluster_residency() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          IF NEW.region IS NOT NULL AND EXISTS (SELECT 1 FROM app.tenants t WHERE t.cluster = NEW.name AND t.region <> NEW.region) THEN
            RAISE EXCEPTION 'residency: the cluster % holds tenants of regions other than %', NEW.name, NEW.region
              USING ERRCODE = '23514';
          END IF;
          RETURN NEW;
        END
        $$
        """,
        """
        CREATE TRIGGER clusters_residency BEFORE UPDATE OF region ON app_private.clusters
        FOR EACH ROW EXECUTE FUNCTION app_private.check_cluster_residency()
        """,
        "REVOKE ALL ON FUNCTION app_private.check_tenant_residency() FROM PUBLIC",
        "REVOKE ALL ON FUNCTION app_private.check_cluster_residency() FROM PUBLIC",

        // What the server needs to open the dedicated clusters; the pool is the database it is connected to.
        """
        CREATE FUNCTION app.dedicated_clusters()
        RETURNS TABLE (name text, region text, host text, port integer, database text, tls text, app_password text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT c.name, c.region, c.host, c.port, c.database, c.tls, c.app_password
          FROM app_private.clusters c WHERE c.name <> 'pool' ORDER BY c.name
        $$
        """,
        "REVOKE ALL ON FUNCTION app.dedicated_clusters() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.dedicated_clusters() TO tenantscope_app",

        // The credential state now says where each live tenant is: the `value` of a tenant row is its cluster.
        """
        CREATE OR REPLACE FUNCTION app.credential_state(horizon interval)
        RETURNS TABLE (kind text, tenant_id uuid, value text, at timestamptz)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT 'tenant', t.id, t.cluster, t.created_at FROM app.tenants t
          UNION ALL
          SELECT 'revoked_token', NULL::uuid, r.jti, r.revoked_at FROM app_private.revoked_tokens r
          WHERE r.revoked_at > now() - horizon
          UNION ALL
          SELECT 'revoked_session', s.tenant_id, s.subject, s.revoked_at FROM app_private.revoked_sessions s
          WHERE s.revoked_at > now() - horizon
        $$
        """,
        // One tenant's cluster, for a tenant the server's last snapshot did not have yet.
        """
        CREATE FUNCTION app.tenant_cluster(p_tenant uuid) RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT t.cluster FROM app.tenants t WHERE t.id = p_tenant $$
        """,
        "REVOKE ALL ON FUNCTION app.tenant_cluster(uuid) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.tenant_cluster(uuid) TO tenantscope_app",

        // The directory names each tenant's cluster.
        "DROP FUNCTION app.tenant_directory()",
        """
        CREATE FUNCTION app.tenant_directory()
        RETURNS TABLE (id uuid, slug text, name text, tier text, region text, created_at timestamptz, cluster text)
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT t.id, t.slug, t.name, t.tier, t.region, t.created_at, t.cluster FROM app.tenants t ORDER BY t.slug $$
        """,
        "REVOKE ALL ON FUNCTION app.tenant_directory() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.tenant_directory() TO tenantscope_app",
    ])
}
