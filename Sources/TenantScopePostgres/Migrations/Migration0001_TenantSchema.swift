extension Migration {
    /// Roles, schemas, the signed tenant context, the tenant tables under row-level security, and grants.
    static let tenantSchema = Migration(version: 1, name: "tenant schema", statements: [
        // Roles are cluster-wide; create them once. The server logs in as tenantscope_app, which owns
        // nothing, inherits nothing and may only SET ROLE to the tenant or platform role per transaction.
        """
        DO $$
        BEGIN
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantscope_tenant') THEN
            CREATE ROLE tenantscope_tenant NOLOGIN;
          END IF;
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantscope_platform') THEN
            CREATE ROLE tenantscope_platform NOLOGIN;
          END IF;
          IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'tenantscope_app') THEN
            CREATE ROLE tenantscope_app LOGIN NOINHERIT;
          END IF;
        END $$
        """,
        "GRANT tenantscope_tenant TO tenantscope_app",
        "GRANT tenantscope_platform TO tenantscope_app",
        "GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO tenantscope_app",

        // app_private: secrets and bookkeeping only the owner can read.
        "REVOKE ALL ON SCHEMA app_private FROM PUBLIC",
        "CREATE EXTENSION IF NOT EXISTS pgcrypto WITH SCHEMA app_private",
        "CREATE TABLE app_private.settings (key text PRIMARY KEY, value text NOT NULL)",
        """
        INSERT INTO app_private.settings (key, value) VALUES
          ('tenant_context_key', encode(app_private.gen_random_bytes(32), 'hex')),
          ('app_role_password', encode(app_private.gen_random_bytes(24), 'hex'))
        """,
        """
        DO $$
        BEGIN
          EXECUTE format('ALTER ROLE tenantscope_app PASSWORD %L',
                         (SELECT value FROM app_private.settings WHERE key = 'app_role_password'));
        END $$
        """,

        "CREATE SCHEMA app",
        "REVOKE ALL ON SCHEMA app FROM PUBLIC",
        "GRANT USAGE ON SCHEMA app TO tenantscope_tenant, tenantscope_platform, tenantscope_app",

        // The policy function. It verifies the HMAC of `<tenant>.<expiry>.<mac>` with a key only the owner
        // can read; a forged or expired context raises, a missing one yields NULL and so zero rows.
        // `nullif(..., '')` because a pooled connection reports '' (not NULL) after an earlier SET LOCAL.
        """
        CREATE FUNCTION app.current_tenant() RETURNS uuid
        LANGUAGE plpgsql STABLE PARALLEL SAFE SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp
        AS $$
        DECLARE
          ctx text := nullif(current_setting('app.tenant_ctx', true), '');
          parts text[];
          mac_key bytea;
        BEGIN
          IF ctx IS NULL THEN
            RETURN NULL;
          END IF;
          parts := string_to_array(ctx, '.');
          IF coalesce(array_length(parts, 1), 0) <> 3 OR parts[2] !~ '^[0-9]{1,12}$' THEN
            RAISE EXCEPTION 'invalid tenant context';
          END IF;
          SELECT decode(s.value, 'hex') INTO mac_key FROM app_private.settings s WHERE s.key = 'tenant_context_key';
          IF encode(app_private.hmac(convert_to(parts[1] || '.' || parts[2], 'UTF8'), mac_key, 'sha256'), 'hex')
             IS DISTINCT FROM parts[3] THEN
            RAISE EXCEPTION 'invalid tenant context';
          END IF;
          IF parts[2]::bigint < extract(epoch FROM now()) THEN
            RAISE EXCEPTION 'expired tenant context';
          END IF;
          RETURN parts[1]::uuid;
        END
        $$
        """,
        "REVOKE ALL ON FUNCTION app.current_tenant() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.current_tenant() TO tenantscope_tenant, tenantscope_platform, tenantscope_app",

        // Readiness probes ask for the schema version without any access to app_private.
        """
        CREATE FUNCTION app.schema_version() RETURNS integer
        LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
        AS $$ SELECT coalesce(max(version), 0) FROM app_private.schema_migrations $$
        """,
        "REVOKE ALL ON FUNCTION app.schema_version() FROM PUBLIC",
        "GRANT EXECUTE ON FUNCTION app.schema_version() TO tenantscope_app",

        // Every tenant table goes through this procedure, so none can be created without the protection;
        // the catalog test fails the build if one is.
        """
        CREATE PROCEDURE app_private.protect_tenant_table(target regclass)
        LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp
        AS $$
        BEGIN
          EXECUTE format('ALTER TABLE %s ALTER COLUMN tenant_id SET DEFAULT app.current_tenant()', target);
          EXECUTE format('ALTER TABLE %s ENABLE ROW LEVEL SECURITY', target);
          EXECUTE format('ALTER TABLE %s FORCE ROW LEVEL SECURITY', target);
          EXECUTE format(
            'CREATE POLICY tenant_isolation ON %s USING (tenant_id = (SELECT app.current_tenant())) '
            'WITH CHECK (tenant_id = (SELECT app.current_tenant()))', target);
          EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %s TO tenantscope_tenant', target);
        END
        $$
        """,

        // The tenant directory. Tenants see their own row, the platform sees all, the owner manages it.
        """
        CREATE TABLE app.tenants (
          id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
          slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z][a-z0-9-]{0,61}[a-z0-9]$'),
          name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
          tier text NOT NULL DEFAULT 'standard',
          region text NOT NULL DEFAULT 'default',
          created_at timestamptz NOT NULL DEFAULT now()
        )
        """,
        "ALTER TABLE app.tenants ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE app.tenants FORCE ROW LEVEL SECURITY",
        "CREATE POLICY tenant_self ON app.tenants FOR SELECT USING (id = (SELECT app.current_tenant()))",
        "CREATE POLICY platform_directory ON app.tenants FOR SELECT TO tenantscope_platform USING (true)",
        "CREATE POLICY owner_directory ON app.tenants TO CURRENT_USER USING (true) WITH CHECK (true)",
        "GRANT SELECT ON app.tenants TO tenantscope_tenant, tenantscope_platform",

        // Raw xAPI statements: the cold path and the LRS's source of truth.
        """
        CREATE TABLE app.statements (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL,
          statement jsonb NOT NULL,
          actor_key text NOT NULL,
          verb_id text NOT NULL,
          object_id text NOT NULL,
          object_type text,
          course_iri text,
          registration uuid,
          "timestamp" timestamptz NOT NULL,
          stored timestamptz NOT NULL DEFAULT now(),
          voided boolean NOT NULL DEFAULT false,
          PRIMARY KEY (tenant_id, id)
        )
        """,
        "CREATE INDEX statements_tenant_stored ON app.statements (tenant_id, stored)",
        "CREATE INDEX statements_tenant_timestamp ON app.statements (tenant_id, \"timestamp\")",
        "CREATE INDEX statements_tenant_actor ON app.statements (tenant_id, actor_key)",
        "CALL app_private.protect_tenant_table('app.statements')",

        """
        CREATE TABLE app.learners (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL DEFAULT gen_random_uuid(),
          actor_key text NOT NULL,
          display_name text,
          region text,
          first_seen timestamptz NOT NULL,
          last_seen timestamptz NOT NULL,
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, actor_key)
        )
        """,
        "CALL app_private.protect_tenant_table('app.learners')",

        """
        CREATE TABLE app.courses (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL DEFAULT gen_random_uuid(),
          course_iri text NOT NULL,
          title text,
          created_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, id),
          UNIQUE (tenant_id, course_iri)
        )
        """,
        "CALL app_private.protect_tenant_table('app.courses')",

        // Composite foreign keys: an enrollment can only point at learners and courses of its own tenant.
        """
        CREATE TABLE app.enrollments (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          learner_id uuid NOT NULL,
          course_id uuid NOT NULL,
          enrolled_at timestamptz NOT NULL,
          completed_at timestamptz,
          cohort text NOT NULL,
          registration uuid,
          PRIMARY KEY (tenant_id, learner_id, course_id),
          FOREIGN KEY (tenant_id, learner_id) REFERENCES app.learners (tenant_id, id) ON DELETE CASCADE,
          FOREIGN KEY (tenant_id, course_id) REFERENCES app.courses (tenant_id, id) ON DELETE CASCADE,
          CHECK (completed_at IS NULL OR completed_at >= enrolled_at)
        )
        """,
        "CREATE INDEX enrollments_tenant_course ON app.enrollments (tenant_id, course_id)",
        "CREATE INDEX enrollments_tenant_cohort ON app.enrollments (tenant_id, cohort)",
        "CALL app_private.protect_tenant_table('app.enrollments')",

        // Product feature usage, sent by the platform's backend, for the platform's adoption analytics.
        """
        CREATE TABLE app.feature_events (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          id uuid NOT NULL DEFAULT gen_random_uuid(),
          feature_key text NOT NULL CHECK (feature_key ~ '^[a-z][a-z0-9_.-]{0,63}$'),
          actor text NOT NULL,
          occurred_at timestamptz NOT NULL,
          received_at timestamptz NOT NULL DEFAULT now(),
          PRIMARY KEY (tenant_id, id)
        )
        """,
        "CREATE INDEX feature_events_tenant_occurred ON app.feature_events (tenant_id, occurred_at)",
        "CALL app_private.protect_tenant_table('app.feature_events')",

        // The audit log is the platform's, not a tenant's: it names the tenant a row is about in
        // scope_tenant_id (nullable) and is append-only; each row hashes the previous one.
        """
        CREATE TABLE app.audit_log (
          seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
          occurred_at timestamptz NOT NULL DEFAULT clock_timestamp(),
          actor text NOT NULL,
          actor_kind text NOT NULL,
          scope_tenant_id uuid,
          action text NOT NULL,
          report text,
          parameters jsonb NOT NULL DEFAULT '{}',
          row_count bigint,
          outcome text NOT NULL,
          previous_hash text NOT NULL,
          hash text NOT NULL
        )
        """,
        "CREATE INDEX audit_log_scope_tenant ON app.audit_log (scope_tenant_id, seq)",
        """
        CREATE FUNCTION app_private.refuse_audit_change() RETURNS trigger
        LANGUAGE plpgsql AS $$
        BEGIN
          RAISE EXCEPTION 'audit_log is append-only';
        END
        $$
        """,
        """
        CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON app.audit_log
        FOR EACH ROW EXECUTE FUNCTION app_private.refuse_audit_change()
        """,
        """
        CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON app.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION app_private.refuse_audit_change()
        """,
        "ALTER TABLE app.audit_log ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE app.audit_log FORCE ROW LEVEL SECURITY",
        "CREATE POLICY owner_audit ON app.audit_log TO CURRENT_USER USING (true) WITH CHECK (true)",
    ])
}
