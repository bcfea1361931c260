import PostgresNIO
import Testing
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The catalog check that makes a future unprotected table break the build.
@Suite(.database) struct SchemaAuditTests {
    @Test func theMigratedSchemaPassesTheIsolationAudit() async throws {
        let handle = try TestDatabase.current
        let problems = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await SchemaAudit.problems(on: connection, logger: TestDatabase.logger)
        }
        #expect(problems == [])
    }

    /// The audit must be able to fail: each broken table below is reported, in a transaction rolled back afterwards.
    @Test(arguments: [
        ("CREATE TABLE app.loose (id int)", "app.loose: table in schema app without tenant_id"),
        ("CREATE TABLE app.loose (tenant_id uuid REFERENCES app.tenants, x int); CREATE INDEX ON app.loose (tenant_id); CALL app_private.protect_tenant_table('app.loose')",
         "app.loose: tenant_id is nullable"),
        ("CREATE TABLE app.loose (tenant_id uuid NOT NULL REFERENCES app.tenants, x int); CREATE INDEX ON app.loose (tenant_id)",
         "app.loose: row-level security is not enabled"),
        ("CREATE TABLE app.loose (tenant_id uuid NOT NULL REFERENCES app.tenants, x int); CREATE INDEX ON app.loose (tenant_id); ALTER TABLE app.loose ENABLE ROW LEVEL SECURITY; CREATE POLICY p ON app.loose USING (true)",
         "app.loose: row-level security is not forced"),
        ("CREATE TABLE app.loose (tenant_id uuid NOT NULL REFERENCES app.tenants, x int); CREATE INDEX ON app.loose (tenant_id); ALTER TABLE app.loose ENABLE ROW LEVEL SECURITY; ALTER TABLE app.loose FORCE ROW LEVEL SECURITY",
         "app.loose: no row-level security policy"),
        ("CREATE TABLE app.loose (tenant_id uuid NOT NULL REFERENCES app.tenants, x int); CREATE INDEX ON app.loose (x, tenant_id); CALL app_private.protect_tenant_table('app.loose')",
         "app.loose: no index leads with tenant_id"),
        ("CREATE TABLE app.loose (tenant_id uuid NOT NULL, x int); CREATE INDEX ON app.loose (tenant_id); CALL app_private.protect_tenant_table('app.loose')",
         "app.loose: tenant_id does not reference app.tenants"),
        ("CREATE VIEW app.leaky AS SELECT * FROM app.learners", "app.leaky: view without security_invoker"),
        ("CREATE SEQUENCE app.counter; GRANT USAGE ON app.counter TO tenantscope_tenant", "tenantscope_tenant may use a sequence: app.counter"),
        ("GRANT USAGE ON SCHEMA app_private TO tenantscope_tenant", "tenantscope_tenant may use schema app_private"),
        ("GRANT SELECT ON app_private.lrs_credentials TO tenantscope_platform",
         "tenantscope_platform has privileges on app_private.lrs_credentials"),
        // The platform role sees aggregates only: no table naming learners, no way to compute their keys.
        ("GRANT SELECT ON app.learner_active_days TO tenantscope_platform",
         "tenantscope_platform may read learner-level rows: app.learner_active_days"),
        ("GRANT SELECT ON app.daily_learner_activity TO tenantscope_platform",
         "tenantscope_platform may read learner-level rows: app.daily_learner_activity"),
        ("GRANT EXECUTE ON FUNCTION app.learner_key(text) TO tenantscope_platform", "tenantscope_platform may compute learner keys"),
        // Each surface's transactions run on a login that can become that surface's role only (decision 28).
        ("GRANT tenantscope_platform TO tenantscope_app_tenant", "tenantscope_app_tenant may become tenantscope_platform"),
        ("GRANT tenantscope_tenant TO tenantscope_app", "tenantscope_app may become tenantscope_tenant"),
        ("GRANT EXECUTE ON FUNCTION app.runtime_keys() TO tenantscope_app_tenant", "tenantscope_app_tenant may execute app.runtime_keys()"),
        ("ALTER ROLE tenantscope_app_tenant INHERIT", "tenantscope_app_tenant inherits privileges (must be NOINHERIT)"),
    ])
    func anUnprotectedObjectIsReported(_ ddl: String, _ expected: String) async throws {
        let handle = try TestDatabase.current
        let problems = try await Self.problems(after: ddl, as: handle.ownerEndpoint)
        #expect(problems.contains(expected), "got \(problems)")
    }

    /// The audit's problems after `ddl` (statements split at `;`), run as `endpoint` in a transaction rolled back
    /// afterwards; with `expectingCleanBefore`, the audit must have found nothing before it.
    static func problems(after ddl: String, as endpoint: DatabaseEndpoint, expectingCleanBefore: Bool = false) async throws -> [String] {
        try await OneShotConnection.with(endpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("BEGIN", logger: TestDatabase.logger)
            if expectingCleanBefore {
                let before = try await SchemaAudit.problems(on: connection, logger: TestDatabase.logger)
                #expect(before == [], "the audit found problems before the change: \(before)")
            }
            for statement in ddl.split(separator: ";") {
                try await connection.query(PostgresQuery(unsafeSQL: String(statement)), logger: TestDatabase.logger)
            }
            let problems = try await SchemaAudit.problems(on: connection, logger: TestDatabase.logger)
            try await connection.query("ROLLBACK", logger: TestDatabase.logger)
            return problems
        }
    }

    /// The replicas' streaming login is made by `db start --replicas` with REPLICATION only; anything more is
    /// reported. Made here as the cluster superuser (REPLICATION needs one) in a transaction rolled back.
    @Test(arguments: [
        ("CREATE ROLE tenantscope_replication LOGIN REPLICATION CREATEDB", "tenantscope_replication has more than REPLICATION: CREATEDB"),
        ("CREATE ROLE tenantscope_replication LOGIN REPLICATION BYPASSRLS", "tenantscope_replication has more than REPLICATION: BYPASSRLS"),
        ("CREATE ROLE tenantscope_replication LOGIN REPLICATION; GRANT tenantscope_platform TO tenantscope_replication",
         "tenantscope_replication may become tenantscope_platform"),
        ("CREATE ROLE tenantscope_replication LOGIN REPLICATION; GRANT SELECT ON app.statements TO tenantscope_replication",
         "tenantscope_replication has privileges on app.statements"),
    ])
    func aReplicationLoginWithMoreThanReplicationIsReported(_ ddl: String, _ expected: String) async throws {
        let handle = try TestDatabase.current
        var superuser = try await TestPostgres.shared.start().superuserEndpoint
        superuser.database = handle.ownerEndpoint.database
        let problems = try await Self.problems(after: ddl, as: superuser, expectingCleanBefore: true)
        #expect(problems.contains(expected), "got \(problems)")
    }

    @Test func theClusterIsHardened() async throws {
        let handle = try TestDatabase.current
        let hardened = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: ClusterHardening.verificationQuery), logger: TestDatabase.logger)
                .collect().first!.decode(Bool.self)
        }
        #expect(hardened)
    }

    /// The seed: no roll-up ever pre-aggregates across tenants. Every table outside the system schemas either
    /// carries `tenant_id` (one tenant per row) or is one of the named non-aggregate tables; there are no
    /// materialized views. A table of platform totals would have no `tenant_id` and fail here.
    @Test func noTableHoldsFiguresSummedOverSeveralTenants() async throws {
        let handle = try TestDatabase.current
        let offenders = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            var names: [String] = []
            for try await name in try await connection.query("""
                SELECT format('%I.%I', n.nspname, c.relname)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
                  AND (c.relkind = 'm' OR NOT EXISTS (
                    SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped))
                ORDER BY 1
                """, logger: TestDatabase.logger).decode(String.self) {
                names.append(name)
            }
            return names
        }
        // The directory, the audit trail, and private bookkeeping (the tier limits and the clusters tenants are
        // placed on are configuration): none holds figures about learning activity.
        #expect(offenders == [
            "app.audit_log", "app.tenants", "app_private.clusters", "app_private.revoked_tokens", "app_private.schema_migrations",
            "app_private.settings", "app_private.tenant_tiers",
        ])
    }
}
