import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// What a compromised server process could do with the only login it holds (`tenantscope_app`), and what
/// the platform role can learn about learners: each attempt below is an attack that must fail, so each
/// test fails when its protection is removed.
@Suite(.database) struct LeastPrivilegeTests {
    /// Runs `sql` on a fresh connection as the server's login role and returns the SQLSTATE it failed
    /// with (nil when it succeeded).
    static func asServerRole(_ sql: [String], _ handle: TestDatabase, tenantLogin: Bool = false) async throws -> String? {
        let endpoint = tenantLogin ? handle.database.tenantEndpoint : handle.database.appEndpoint
        return try await OneShotConnection.with(endpoint, logger: TestDatabase.logger) { connection in
            do {
                for statement in sql {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: statement), logger: TestDatabase.logger).collect()
                }
                return nil
            } catch {
                return error.sqlState ?? "?"
            }
        }
    }

    @Test(arguments: [
        // Switching row-level security off, or rewriting the policies, needs the tables' owner.
        "ALTER TABLE app.statements NO FORCE ROW LEVEL SECURITY",
        "ALTER TABLE app.statements DISABLE ROW LEVEL SECURITY",
        "DROP POLICY tenant_isolation ON app.statements",
        "ALTER TABLE app.audit_log DISABLE TRIGGER audit_log_append_only",
        "CREATE TABLE app.mine (x int)",
        // Becoming the owner or the aggregates role.
        "SET ROLE tenantscope",
        "SELECT set_config('role', 'tenantscope', false)",
        "SET ROLE tenantscope_aggregates",
        "SET SESSION AUTHORIZATION tenantscope",
        // Platform transactions cannot become the tenant role (decision 28).
        "SET ROLE tenantscope_tenant",
        // Secrets and the unsigned audit append.
        "SELECT * FROM app_private.settings",
        "SELECT * FROM app_private.learner_key_secrets",
        "SELECT * FROM app_private.tenant_tiers",
        "SELECT * FROM app_private.tenant_limit_overrides",
        // Its own limits: a server that could raise them would let one tenant starve the rest.
        "UPDATE app.tenants SET tier = 'enterprise'",
        "INSERT INTO app_private.tenant_limit_overrides (tenant_id, concurrency) SELECT id, 10000 FROM app.tenants",
        "SELECT * FROM app_private.lrs_credentials",
        "SELECT app.append_audit('forged', 'platform_admin', NULL, 'x', NULL, '{}', NULL, 'ok')",
        // Tenant rows without switching to the tenant role at all.
        "SELECT count(*) FROM app.statements",
        "SELECT count(*) FROM app.learners",
    ])
    func theServerRoleCannotEscalate(_ sql: String) async throws {
        let handle = try TestDatabase.current
        let failure = try await Self.asServerRole([sql], handle)
        #expect(failure != nil, "the server's login role could run: \(sql)")
        #expect(["42501", "42P01", "22023"].contains(failure ?? ""), "\(sql) failed with \(failure ?? "-")")
    }

    @Test func theServerRoleReadsNoTenantRowWithoutASignedContext() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tables = try await TwoTenants.tenantTables(handle)
        #expect(tables.count >= 10)
        for table in tables {
            let count = try await OneShotConnection.with(handle.database.tenantEndpoint, logger: TestDatabase.logger) { connection in
                try await connection.query("BEGIN", logger: TestDatabase.logger)
                try await connection.query("SELECT set_config('role', 'tenantscope_tenant', true)", logger: TestDatabase.logger)
                let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: TestDatabase.logger)
                    .collect().first?.decode(Int.self)
                try await connection.query("ROLLBACK", logger: TestDatabase.logger)
                return count
            }
            #expect(count == 0, "\(table): \(count ?? -1) rows without a context")
        }
        // A context the role signs itself (without the key) is an error, not another tenant.
        let forged = "\(fixture.b.tenant.id).\(Int(Date().timeIntervalSince1970) + 60).\(String(repeating: "0", count: 64))"
        let failure = try await Self.asServerRole([
            "BEGIN", "SELECT set_config('app.tenant_ctx', '\(forged)', true)", "SELECT set_config('role', 'tenantscope_tenant', true)",
            "SELECT count(*) FROM app.statements",
        ], handle, tenantLogin: true)
        #expect(failure == "P0001")
    }

    /// SQL inside a tenant transaction (a bug in a query, the guarded SQL surface) cannot leave the tenant
    /// role: PostgreSQL checks SET ROLE against the session user, and tenant transactions run on a login
    /// that is a member of the tenant role only and executes none of the server's functions (decision 28).
    @Test(arguments: [
        "SET ROLE tenantscope_platform",
        "SELECT set_config('role', 'tenantscope_platform', true)",
        "SET ROLE tenantscope_app",
        "RESET ROLE; SELECT * FROM app.runtime_keys()",
        "RESET ROLE; SELECT app.tenant_login_password()",
        "RESET ROLE; SELECT * FROM app.tenant_directory()",
        "RESET ROLE; SELECT * FROM app.platform_learner_activity(30)",
        // The cross-tenant aggregates, as the tenant role itself (decision 89: PUBLIC could execute them).
        "SELECT * FROM app.platform_learner_activity(30)",
        "SELECT * FROM app.platform_window_learners(30)",
        "SELECT * FROM app.rollup_watermarks()",
        "SELECT * FROM app.pending_rollup_queues()",
    ])
    func aTenantTransactionCannotLeaveTheTenantRole(_ sql: String) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let failure: String? = try await handle.database.sessions.run(fixture.a.tenant.id.testScope, logger: TestDatabase.logger) { connection in
            // The transaction runs as the tenant login's tenant role: control for what the attempts start from.
            let user = try await connection.query("SELECT session_user::text").collect().first?.decode(String.self)
            #expect(user == Database.tenantLoginRole)
            do {
                for statement in sql.split(separator: ";") {
                    _ = try await connection.query(PostgresQuery(unsafeSQL: String(statement))).collect()
                }
                return nil
            } catch {
                return error.sqlState ?? "?"
            }
        }
        #expect(failure == "42501", "\(sql) failed with \(failure ?? "nothing: it ran")")
    }

    @Test func auditAppendsNeedAPrincipalSignedWithTheServersKey() async throws {
        let handle = try TestDatabase.current
        let before = try await handle.admin.auditTrail.tail(limit: 1, logger: TestDatabase.logger).last?.seq ?? 0
        let otherKey = try AuditPrincipalSigner(keyHex: String(repeating: "7f", count: 32))
        let forged = otherKey.principal(actor: "someone-else", kind: .platformAdmin, expiresAt: Date().addingTimeInterval(60))
        let realKey = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT value FROM app_private.settings WHERE key = 'tenant_context_key'", logger: TestDatabase.logger)
                .collect().first!.decode(String.self)
        }
        let expired = try AuditPrincipalSigner(keyHex: realKey).principal(actor: "late", kind: .operator, expiresAt: Date().addingTimeInterval(-60))
        let valid = try AuditPrincipalSigner(keyHex: realKey).principal(actor: "op", kind: .platformAdmin, expiresAt: Date().addingTimeInterval(60))
        let relabelled = valid.replacingOccurrences(of: ".platform_admin.", with: ".operator.")
        for principal in [forged, expired, relabelled, "not-a-principal"] {
            let failure = try await Self.asServerRole([
                "SELECT app.append_signed_audit('\(principal)', NULL, 'forged_entry', NULL, '{}', NULL, 'ok')",
            ], handle)
            #expect(failure == "28000", "\(principal): \(failure ?? "accepted")")
        }
        // The server's own appends go through.
        try await handle.database.audit.append(.init(actor: "op", actorKind: "platform_admin", scopeTenant: nil, action: "signed_entry",
                                                     outcome: "ok"), logger: TestDatabase.logger)
        let after = try await handle.admin.auditTrail.tail(limit: 50, logger: TestDatabase.logger).filter { $0.seq > before }
        #expect(after.contains { $0.entry.action == "signed_entry" && $0.entry.actor == "op" })
        #expect(!after.contains { $0.entry.action == "forged_entry" })
    }

    // MARK: - The platform sees aggregates, never learners

    static let knownAddress = "mbox:mailto:canary-known@fixture.example"

    @Test func thePlatformRoleCannotTestWhetherAKnownAddressIsALearner() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("member")), name: "Membership", logger: TestDatabase.logger)
        try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            try await connection.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp")
                VALUES (gen_random_uuid(), '{}', \(Self.knownAddress), 'v', 'o', now() - interval '1 day')
                """)
            try await connection.execute("SELECT app.catch_up_rollups('10 minutes', true)")
        }
        // The tenant itself has a learner-day row for the address...
        let own = try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT count(*)::int FROM app.learner_active_days WHERE learner_hash = app.learner_key(\(Self.knownAddress))")
                .collect().first!.decode(Int.self)
        }
        #expect(own == 1)
        // ...but the platform can neither read learner-level rows nor compute a key, keyed or not.
        let platform = DataScope.platform(ScopePolicy.platformCommand(operator: "membership-probe"))
        for attempt in [
            "SELECT count(*) FROM app.learner_active_days WHERE learner_hash = md5('\(Self.knownAddress)')",
            "SELECT count(*) FROM app.daily_learner_activity WHERE learner_hash = md5('\(Self.knownAddress)')",
            "SELECT app.learner_key('\(Self.knownAddress)')",
            "SELECT count(*) FROM app.learners",
            "SELECT count(*) FROM app.statements WHERE actor_key = '\(Self.knownAddress)'",
        ] {
            await #expect(throws: (any Error).self, "the platform role could run: \(attempt)") {
                try await handle.database.sessions.run(platform, logger: TestDatabase.logger) { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: attempt)).collect()
                }
            }
        }
        // What it may call returns per-tenant counts: tenant ids and numbers, no key.
        let columns = try await handle.database.sessions.run(platform, logger: TestDatabase.logger) { connection in
            var columns: [String] = []
            for name in ["platform_learner_activity", "platform_window_learners"] {
                let rows = try await connection.query(PostgresQuery(unsafeSQL: "SELECT * FROM app.\(name)(30)")).collect()
                let row = try #require(rows.first { try $0.makeRandomAccess()[0].decode(UUID.self) == tenant.id.rawValue })
                columns += row.makeRandomAccess().map(\.columnName)
                #expect(try row.makeRandomAccess()[1].decode(Int.self) == 1)
            }
            return columns
        }
        #expect(Set(columns) == ["tenant_id", "active_learners", "statements", "window_active_learners"])
    }

    @Test func learnerKeysDifferPerTenantForTheSameAddress() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        var keys: [String] = []
        for member in [fixture.a, fixture.b] {
            keys.append(try await handle.database.sessions.run(member.tenant.id.testScope, logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT app.learner_key(\(Self.knownAddress))").collect().first!.decode(String.self)
            })
        }
        #expect(keys[0] != keys[1] && keys.allSatisfy { $0.count == 32 })
        let md5 = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT md5(\(Self.knownAddress))", logger: TestDatabase.logger).collect().first!.decode(String.self)
        }
        #expect(!keys.contains(md5), "a learner key must not be the plain md5 of the address")
    }
}
