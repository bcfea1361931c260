import PostgresNIO
import Testing
@testable import TenantScopePostgres

/// The catalog check that makes a future unprotected table break the build.
@Suite struct SchemaAuditTests {
    @Test func theMigratedSchemaPassesTheIsolationAudit() async throws {
        let handle = try await TestCluster.shared.start()
        let problems = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestCluster.logger) { connection in
            try await SchemaAudit.problems(on: connection, logger: TestCluster.logger)
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
    ])
    func anUnprotectedObjectIsReported(_ ddl: String, _ expected: String) async throws {
        let handle = try await TestCluster.shared.start()
        let problems = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestCluster.logger) { connection in
            try await connection.query("BEGIN", logger: TestCluster.logger)
            for statement in ddl.split(separator: ";") {
                try await connection.query(PostgresQuery(unsafeSQL: String(statement)), logger: TestCluster.logger)
            }
            let problems = try await SchemaAudit.problems(on: connection, logger: TestCluster.logger)
            try await connection.query("ROLLBACK", logger: TestCluster.logger)
            return problems
        }
        #expect(problems.contains(expected), "got \(problems)")
    }

    @Test func theClusterIsHardened() async throws {
        let handle = try await TestCluster.shared.start()
        let hardened = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestCluster.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: ClusterHardening.verificationQuery), logger: TestCluster.logger)
                .collect().first!.decode(Bool.self)
        }
        #expect(hardened)
    }
}
