import Logging
import PostgresNIO

/// Reads the catalog and lists every way the schema falls short of the isolation rules.
///
/// The rules (docs/security.md, "The database is the floor"): every table holding `tenant_id` has it `NOT NULL`,
/// referencing `app.tenants`, leading an index, under enabled and forced row-level security with at
/// least one policy; every table in `app` holds `tenant_id` unless it is one of the platform tables;
/// views are `security_invoker`; application roles own nothing, cannot bypass RLS, and cannot run
/// `set_config` inside a tenant transaction; the platform role can read no table with a learner column
/// (key, hash, actor) and cannot compute learner keys (docs/security.md); no `SECURITY DEFINER` function of ours is
/// executable by `PUBLIC`. `app_private` (secrets, LRS credentials) is exempt from the
/// tenant-table rules because no application role may reach it at all, which is checked instead.
/// The sandbox role of the guarded SQL surface (migration 20) logs in never, is a member of nothing, may use
/// schema `semantic` only, may only select from its views, and may execute nothing of ours but
/// `app.current_tenant()` and `semantic.answer_row_fits` (which reads nothing and runs as its caller, migration 56);
/// `semantic` holds only `security_invoker` views with no learner-secret column.
/// The embedded replicas' streaming login, where it exists, has REPLICATION only: no other attribute, no
/// membership, no privilege on a table of ours.
/// An empty result means the schema passes.
public enum SchemaAudit {
    /// Tables in `app` that are not per-tenant by design.
    public static let platformTables: Set<String> = ["tenants", "audit_log"]

    static let applicationRoles = ["tenantscope_app", "tenantscope_app_tenant", "tenantscope_tenant", "tenantscope_platform", "tenantscope_aggregates",
                                    "tenantscope_sandbox"]

    static let query = """
        WITH tenant_tables AS (
          SELECT c.oid, format('%I.%I', n.nspname, c.relname) AS name, c.relrowsecurity, c.relforcerowsecurity, a.attnum, a.attnotnull
          FROM pg_class c
          JOIN pg_namespace n ON n.oid = c.relnamespace
          JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
          WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'app_private')
        )
        SELECT name || ': tenant_id is nullable' FROM tenant_tables WHERE NOT attnotnull
        UNION ALL
        SELECT name || ': row-level security is not enabled' FROM tenant_tables WHERE NOT relrowsecurity
        UNION ALL
        SELECT name || ': row-level security is not forced' FROM tenant_tables WHERE NOT relforcerowsecurity
        UNION ALL
        SELECT t.name || ': no row-level security policy' FROM tenant_tables t
        WHERE NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = t.oid)
        UNION ALL
        SELECT t.name || ': no index leads with tenant_id' FROM tenant_tables t
        WHERE NOT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = t.oid AND i.indkey[0] = t.attnum)
        UNION ALL
        SELECT t.name || ': tenant_id does not reference app.tenants' FROM tenant_tables t
        WHERE NOT EXISTS (
          SELECT 1 FROM pg_constraint k
          WHERE k.conrelid = t.oid AND k.contype = 'f' AND k.confrelid = 'app.tenants'::regclass AND k.conkey = ARRAY[t.attnum])
        UNION ALL
        SELECT format('app.%I: table in schema app without tenant_id', c.relname)
        FROM pg_class c
        WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p')
          AND c.relname <> ALL ($1::text[])
          AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped)
        UNION ALL
        SELECT format('%s: view without security_invoker', c.oid::regclass)
        FROM pg_class c
        WHERE c.relnamespace IN ('app'::regnamespace, 'semantic'::regnamespace) AND c.relkind IN ('v', 'm')
          AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
        UNION ALL
        SELECT format('%s owns %s', r.rolname, c.oid::regclass)
        FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner WHERE r.rolname = ANY ($2::text[])
        UNION ALL
        SELECT r.rolname || ': may bypass row-level security or is a superuser'
        FROM pg_roles r WHERE r.rolname = ANY ($2::text[]) AND (r.rolbypassrls OR r.rolsuper)
        UNION ALL
        SELECT rolname || ' inherits privileges (must be NOINHERIT)' FROM pg_roles
        WHERE rolname IN ('tenantscope_app', 'tenantscope_app_tenant') AND rolinherit
        UNION ALL
        SELECT format('%s may become %s', m.rolname, r.rolname)
        FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member JOIN pg_roles r ON r.oid = a.roleid
        WHERE (m.rolname = 'tenantscope_app_tenant' AND r.rolname NOT IN ('tenantscope_tenant', 'tenantscope_sandbox'))
           OR m.rolname = 'tenantscope_sandbox'
           OR (r.rolname = 'tenantscope_sandbox' AND m.rolname <> 'tenantscope_app_tenant')
           OR (m.rolname = 'tenantscope_app' AND r.rolname = 'tenantscope_tenant')
        UNION ALL
        SELECT 'tenantscope_app_tenant may execute ' || p.oid::regprocedure::text
        FROM pg_proc p
        WHERE p.pronamespace IN ('app'::regnamespace, 'app_private'::regnamespace)
          AND has_function_privilege('tenantscope_app_tenant', p.oid, 'EXECUTE')
          AND NOT has_function_privilege('tenantscope_tenant', p.oid, 'EXECUTE')
        UNION ALL
        SELECT r || ' may execute set_config' FROM unnest(ARRAY['tenantscope_tenant', 'tenantscope_platform', 'tenantscope_sandbox']) r
        WHERE has_function_privilege(r, 'pg_catalog.set_config(text, text, boolean)', 'EXECUTE')
        UNION ALL
        SELECT r || ' may execute pg_notify' FROM unnest(ARRAY['tenantscope_tenant', 'tenantscope_platform', 'tenantscope_sandbox']) r
        WHERE has_function_privilege(r, 'pg_catalog.pg_notify(text, text)', 'EXECUTE')
        UNION ALL
        SELECT r || ' may take advisory locks' FROM unnest(ARRAY['tenantscope_tenant', 'tenantscope_platform', 'tenantscope_sandbox']) r
        WHERE has_function_privilege(r, 'pg_catalog.pg_advisory_lock(bigint)', 'EXECUTE')
        UNION ALL
        SELECT r || ' may use schema app_private' FROM unnest($2::text[]) r
        WHERE has_schema_privilege(r, 'app_private', 'USAGE')
        UNION ALL
        SELECT r || ' has privileges on ' || c.oid::regclass FROM pg_class c, unnest($2::text[]) r
        WHERE c.relnamespace = 'app_private'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND has_table_privilege(r, c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
        UNION ALL
        SELECT 'tenantscope_platform may read learner-level rows: ' || c.oid::regclass
        FROM pg_class c
        WHERE c.relnamespace = 'app'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
          AND has_table_privilege('tenantscope_platform', c.oid, 'SELECT')
          AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND NOT a.attisdropped
                      AND a.attname IN ('learner_hash', 'learner_key', 'actor_key', 'actor', 'actor_name', 'statement'))
        UNION ALL
        SELECT 'tenantscope_platform may compute learner keys' WHERE has_function_privilege('tenantscope_platform', 'app.learner_key(text)', 'EXECUTE')
        UNION ALL
        -- A SECURITY DEFINER function runs with its owner's rights: PUBLIC's EXECUTE would hand them to every role.
        SELECT 'PUBLIC may execute the SECURITY DEFINER function ' || p.oid::regprocedure::text FROM pg_proc p
        WHERE p.prosecdef AND p.pronamespace IN ('app'::regnamespace, 'app_private'::regnamespace, 'gate'::regnamespace, 'semantic'::regnamespace)
          AND has_function_privilege('public', p.oid, 'EXECUTE')
        UNION ALL
        SELECT r || ' may use a sequence: ' || c.oid::regclass FROM pg_class c, unnest(ARRAY['tenantscope_tenant', 'tenantscope_platform', 'tenantscope_sandbox']) r
        WHERE c.relkind = 'S' AND has_sequence_privilege(r, c.oid, 'USAGE,SELECT')
        UNION ALL
        SELECT 'tenantscope_sandbox can log in' FROM pg_roles WHERE rolname = 'tenantscope_sandbox' AND rolcanlogin
        UNION ALL
        SELECT 'tenantscope_sandbox may use schema ' || n.nspname FROM pg_namespace n
        WHERE n.nspname NOT IN ('semantic', 'pg_catalog', 'information_schema', 'public')
          AND has_schema_privilege('tenantscope_sandbox', n.oid, 'USAGE,CREATE')
        UNION ALL
        SELECT 'tenantscope_sandbox may create in schema ' || n.nspname FROM pg_namespace n
        WHERE has_schema_privilege('tenantscope_sandbox', n.oid, 'CREATE')
        UNION ALL
        SELECT 'tenantscope_sandbox has privileges on ' || c.oid::regclass FROM pg_class c
        WHERE c.relnamespace NOT IN ('semantic'::regnamespace, 'pg_catalog'::regnamespace, 'information_schema'::regnamespace)
          AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
          AND has_table_privilege('tenantscope_sandbox', c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
        UNION ALL
        SELECT 'tenantscope_sandbox may write ' || c.oid::regclass FROM pg_class c
        WHERE c.relnamespace = 'semantic'::regnamespace
          AND has_table_privilege('tenantscope_sandbox', c.oid, 'INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
        UNION ALL
        SELECT 'tenantscope_sandbox may execute ' || p.oid::regprocedure::text FROM pg_proc p
        WHERE p.pronamespace IN ('app'::regnamespace, 'app_private'::regnamespace, 'semantic'::regnamespace)
          AND p.oid <> 'app.current_tenant()'::regprocedure
          AND (p.oid IS DISTINCT FROM to_regprocedure('semantic.answer_row_fits(integer, integer)') OR p.prosecdef)
          AND has_function_privilege('tenantscope_sandbox', p.oid, 'EXECUTE')
          AND NOT has_function_privilege('public', p.oid, 'EXECUTE')
        UNION ALL
        -- The embedded replicas' streaming login (EmbeddedReplica) needs REPLICATION and nothing else.
        SELECT r.rolname || ' has more than REPLICATION: ' || concat_ws(', ', CASE WHEN r.rolsuper THEN 'SUPERUSER' END,
               CASE WHEN r.rolbypassrls THEN 'BYPASSRLS' END, CASE WHEN r.rolcreaterole THEN 'CREATEROLE' END,
               CASE WHEN r.rolcreatedb THEN 'CREATEDB' END)
        FROM pg_roles r WHERE r.rolname = $3 AND (r.rolsuper OR r.rolbypassrls OR r.rolcreaterole OR r.rolcreatedb)
        UNION ALL
        SELECT format('%s may become %s', m.rolname, r.rolname)
        FROM pg_auth_members a JOIN pg_roles m ON m.oid = a.member JOIN pg_roles r ON r.oid = a.roleid WHERE m.rolname = $3
        UNION ALL
        SELECT r.rolname || ' has privileges on ' || c.oid::regclass
        FROM pg_class c JOIN pg_roles r ON r.rolname = $3
        WHERE c.relnamespace IN ('app'::regnamespace, 'app_private'::regnamespace) AND c.relkind IN ('r', 'p', 'v', 'm')
          AND has_table_privilege(r.oid, c.oid, 'SELECT,INSERT,UPDATE,DELETE,TRUNCATE,REFERENCES,TRIGGER')
        UNION ALL
        SELECT 'semantic.' || c.relname || ' is not a view' FROM pg_class c
        WHERE c.relnamespace = 'semantic'::regnamespace AND c.relkind NOT IN ('v')
        UNION ALL
        SELECT 'semantic.' || c.relname || ' exposes a learner secret: ' || a.attname
        FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
        WHERE c.relnamespace = 'semantic'::regnamespace
          AND a.attname IN ('learner_hash', 'learner_key', 'actor_key', 'actor', 'actor_name', 'statement', 'mbox', 'email')
        ORDER BY 1
        """

    /// Runs the audit on `connection` (any role that can read the catalog) and returns the problems found.
    public static func problems(on connection: PostgresConnection, logger: Logger) async throws -> [String] {
        var bindings = PostgresBindings()
        bindings.append(platformTables.sorted())
        bindings.append(applicationRoles)
        bindings.append(EmbeddedReplica.replicationRole)
        var problems: [String] = []
        for try await problem in try await connection.query(PostgresQuery(unsafeSQL: query, binds: bindings), logger: logger).decode(String.self) {
            problems.append(problem)
        }
        return problems
    }
}
