extension Migration {
    /// Tenant transactions get a login of their own (architecture decision 28).
    ///
    /// PostgreSQL checks `SET ROLE` and `RESET ROLE` against the session user, not the current role. While
    /// tenant transactions ran on the server's login (`tenantscope_app`), SQL inside one — a bug in a
    /// query, or the guarded SQL surface to come — could `SET ROLE tenantscope_platform` and read every
    /// tenant's aggregates, or `RESET ROLE` and call `app.runtime_keys()`, then sign a context for any
    /// tenant. `verify-isolation` found both. `tenantscope_app_tenant` may only become the tenant role and
    /// execute nothing of the server's; `tenantscope_app` keeps the platform role and the runtime
    /// functions but is no longer a member of the tenant role, so platform SQL cannot read tenant rows.
    static let tenantLogin = Migration(version: 10, name: "tenant login", statements: [
        """
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantscope_app_tenant') THEN
            CREATE ROLE tenantscope_app_tenant LOGIN NOINHERIT;
          END IF;
        END $$
        """,
        "GRANT tenantscope_tenant TO tenantscope_app_tenant",
        "REVOKE tenantscope_tenant FROM tenantscope_app",
        // The one statement that starts a scoped transaction sets the context, role and timeout with it.
        "GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO tenantscope_app_tenant",
        """
        INSERT INTO app_private.settings (key, value)
        VALUES ('tenant_login_password', encode(app_private.gen_random_bytes(24), 'hex'))
        """,
        """
        DO $$
        BEGIN
          EXECUTE format('ALTER ROLE tenantscope_app_tenant PASSWORD %L',
                         (SELECT value FROM app_private.settings WHERE key = 'tenant_login_password'));
        END $$
        """,
        // The server reads the tenant login's password at start-up, as its own login, like the runtime keys.
        """
        CREATE FUNCTION app.tenant_login_password() RETURNS text
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT s.value FROM app_private.settings s WHERE s.key = 'tenant_login_password' $$
        """,
        "REVOKE ALL ON FUNCTION app.tenant_login_password() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.tenant_login_password() TO tenantscope_app",
    ])
}
