extension Migration {
    /// Saved dashboard views and the signed, expiring, revocable links that share them. Both are tenant
    /// tables under the usual rules. A shared link is opened without a session, so the one lookup from a
    /// link id to its tenant is a SECURITY DEFINER function over a private index the tenant role cannot read.
    static let savedViews = Migration(version: 6, name: "saved views and shared links", statements: [
        """
        CREATE TABLE app.saved_views (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL DEFAULT gen_random_uuid(),
          name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
          days integer NOT NULL CHECK (days BETWEEN 1 AND 365),
          course text CHECK (length(course) <= 500),
          created_by text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, name)
        )
        """,
        "CALL app_private.protect_tenant_table('app.saved_views')",
        """
        CREATE TABLE app.shared_links (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL DEFAULT gen_random_uuid(),
          view_id uuid NOT NULL,
          expires_at timestamptz NOT NULL,
          revoked_at timestamptz,
          created_by text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, id),
          FOREIGN KEY (tenant_id, view_id) REFERENCES app.saved_views (tenant_id, id) ON DELETE CASCADE
        )
        """,
        "CREATE INDEX shared_links_tenant_view ON app.shared_links (tenant_id, view_id)",
        "CALL app_private.protect_tenant_table('app.shared_links')",
        // Which tenant a link id belongs to, kept by a trigger in app_private (no application role can read
        // it, and the owner gains no read access to tenant rows): the one cross-tenant fact a link needs.
        """
        CREATE TABLE app_private.shared_link_tenants (
          link_id uuid PRIMARY KEY,
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE
        )
        """,
        """
        CREATE FUNCTION app_private.index_shared_link() RETURNS trigger
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          INSERT INTO app_private.shared_link_tenants (link_id, tenant_id) VALUES (NEW.id, NEW.tenant_id);
          RETURN NEW;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app_private.index_shared_link() FROM PUBLIC",
        "CREATE TRIGGER shared_links_index AFTER INSERT ON app.shared_links FOR EACH ROW EXECUTE FUNCTION app_private.index_shared_link()",
        // Revocation and expiry are checked afterwards, in the tenant's own scope.
        """
        CREATE FUNCTION app.shared_link_tenant(link_id uuid) RETURNS uuid
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$
          SELECT t.tenant_id FROM app_private.shared_link_tenants t WHERE t.link_id = shared_link_tenant.link_id
        $$
        """,
        "REVOKE ALL ON FUNCTION app.shared_link_tenant(uuid) FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.shared_link_tenant(uuid) TO tenantscope_app",
        // Signs shared-link tokens; read by the server at start-up like the tenant-context key.
        "INSERT INTO app_private.settings (key, value) VALUES ('shared_link_key', encode(app_private.gen_random_bytes(32), 'hex'))",
    ])
}
