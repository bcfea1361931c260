import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Isolation as the database enforces it. Each test fails if the protection it names is removed.
@Suite(.database) struct RowLevelSecurityTests {
    @Test func everyTenantTableReturnsOnlyTheCurrentTenantsRowsWithoutAWhereClause() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tables = try await TwoTenants.tenantTables(handle)
        #expect(tables.count >= 7)
        for member in [fixture.a, fixture.b] {
            let other = member.tenant.id == fixture.a.tenant.id ? fixture.b : fixture.a
            try await handle.database.sessions.run(member.tenant.id.testScope, logger: TestDatabase.logger) { connection in
                for table in tables {
                    let row = try await connection.query(PostgresQuery(unsafeSQL: """
                        SELECT count(*) FILTER (WHERE t.tenant_id <> '\(member.tenant.id)'),
                               count(*) FILTER (WHERE \(member.rowMatch(in: table))),
                               count(*) FILTER (WHERE \(other.rowMatch(in: table)))
                        FROM \(table) t
                        """)).collect().first!.decode((Int, Int, Int).self)
                    #expect(row.0 == 0, "\(table): rows of other tenants are visible")
                    #expect(row.1 > 0, "\(table): the tenant's own canary row is missing")
                    #expect(row.2 == 0, "\(table): another tenant's canary is visible")
                }
                let directory = try await connection.query("SELECT id FROM app.tenants").collect().map { try $0.decode(UUID.self) }
                #expect(directory == [member.tenant.id.rawValue], "a tenant sees exactly its own directory row")
            }
        }
    }

    @Test func noContextMeansZeroRowsFromEveryTenantTable() async throws {
        let handle = try TestDatabase.current
        _ = try await TwoTenants.make(handle)
        let tables = try await TwoTenants.tenantTables(handle)
        try await handle.database.tenantPool.client.withConnection { connection in
            for context in [nil, ""] as [String?] {
                try await connection.query("BEGIN", logger: TestDatabase.logger)
                if let context {
                    try await connection.query("SELECT set_config('app.tenant_ctx', \(context), true)", logger: TestDatabase.logger)
                }
                try await connection.query("SET LOCAL ROLE tenantscope_tenant", logger: TestDatabase.logger)
                for table in tables + ["app.tenants"] {
                    let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: TestDatabase.logger)
                        .collect().first!.decode(Int.self)
                    #expect(count == 0, "\(table) returned rows without a tenant context (\(context.map { "'\($0)'" } ?? "unset"))")
                }
                try await connection.query("ROLLBACK", logger: TestDatabase.logger)
            }
        }
        // The owner owns the tables, and FORCE ROW LEVEL SECURITY still applies to it.
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            for table in tables {
                let count = try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)"), logger: TestDatabase.logger)
                    .collect().first!.decode(Int.self)
                #expect(count == 0, "the owner read \(table) without a tenant context")
            }
        }
    }

    @Test func setConfigInsideATenantSelectCannotSwitchTenant() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let signer = try await Self.signer(handle)
        let otherContext = signer.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(300))
        let attempts: [PostgresQuery] = [
            "SELECT set_config('app.tenant_ctx', \(otherContext), true)",
            "SELECT l.* FROM app.learners l, LATERAL (SELECT set_config('app.tenant_ctx', \(otherContext), true) OFFSET 0) s",
        ]
        for attempt in attempts {
            await #expect {
                try await handle.database.sessions.run(fixture.a.tenant.id.testScope, logger: TestDatabase.logger) { connection in
                    try await connection.query(attempt).collect()
                }
            } throws: { $0.sqlState == "42501" && ($0.serverMessage ?? "").contains("set_config") }
        }
    }

    @Test func setConfigInsideATenantSelectCannotSwitchRole() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        for role in ["tenantscope_platform", "tenantscope_app", "none"] {
            await #expect {
                try await handle.database.sessions.run(fixture.a.tenant.id.testScope, logger: TestDatabase.logger) { connection in
                    try await connection.query("SELECT set_config('role', \(role), true)").collect()
                }
            } throws: { $0.sqlState == "42501" }
        }
        // And the role really is the tenant role inside the helper.
        let role = try await handle.database.sessions.run(fixture.a.tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT current_user::text").collect().first!.decode(String.self)
        }
        #expect(role == "tenantscope_tenant")
    }

    @Test func aForgedOrExpiredContextIsAnErrorNotAnotherTenant() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let signer = try await Self.signer(handle)
        let wrongKey = try TenantContextSigner(keyHex: String(repeating: "42", count: 32))
        let genuine = signer.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(300))
        let forgeries = [
            "\(fixture.b.tenant.id).\(Int(Date().timeIntervalSince1970) + 300).\(String(repeating: "0", count: 64))",
            wrongKey.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(300)),
            genuine.replacingOccurrences(of: fixture.b.tenant.id.description, with: fixture.a.tenant.id.description),
            "\(fixture.b.tenant.id)",
        ]
        for forged in forgeries {
            await #expect {
                try await Self.readLearners(handle, context: forged)
            } throws: { ($0.serverMessage ?? "").contains("invalid tenant context") }
        }
        let expired = signer.context(for: fixture.b.tenant.id, expiresAt: Date().addingTimeInterval(-60))
        await #expect {
            try await Self.readLearners(handle, context: expired)
        } throws: { ($0.serverMessage ?? "").contains("expired tenant context") }
        // Control: the genuine context works, so the failures above are the MAC check, not the setup.
        #expect(try await Self.readLearners(handle, context: genuine) == 1)
    }

    @Test func transactionScopedContextDoesNotOutliveItsTransaction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        try await handle.database.tenantPool.client.withConnection { connection in
            let seen = try await handle.database.sessions.run(.tenant(fixture.a.tenant.id.testScope), on: connection, access: .readOnly, statementTimeout: nil, logger: TestDatabase.logger) { scoped in
                try await scoped.query("SELECT count(*) FROM app.learners").collect().first!.decode(Int.self)
            }
            #expect(seen == 1)
            let after = try await connection.query(
                "SELECT current_user::text, coalesce(current_setting('app.tenant_ctx', true), '')", logger: TestDatabase.logger
            ).collect().first!.decode((String, String).self)
            #expect(after.0 == Database.tenantLoginRole, "the role must reset at COMMIT")
            #expect(after.1 == "", "the tenant context must reset at COMMIT")
        }
    }

    @Test func aForgottenSessionLevelSettingIsMaskedInTheNextTransaction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let signer = try await Self.signer(handle)
        try await handle.database.tenantPool.client.withConnection { connection in
            // A bug elsewhere sets the context for the whole session ("forgot LOCAL") to tenant A.
            let leaked = signer.context(for: fixture.a.tenant.id, expiresAt: Date().addingTimeInterval(300))
            try await connection.query("SELECT set_config('app.tenant_ctx', \(leaked), false)", logger: TestDatabase.logger)
            let canaries = try await handle.database.sessions.run(.tenant(fixture.b.tenant.id.testScope), on: connection, access: .readOnly, statementTimeout: nil, logger: TestDatabase.logger) { scoped in
                try await scoped.query("SELECT actor_key FROM app.learners").collect().map { try $0.decode(String.self) }
            }
            #expect(canaries.count == 1)
            #expect(canaries.allSatisfy { $0.contains(fixture.b.canary) && !$0.contains(fixture.a.canary) })
            try await connection.query("RESET app.tenant_ctx", logger: TestDatabase.logger)
        }
    }

    @Test func insertsAreStampedWithTheCurrentTenant() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let stamped = try await handle.database.sessions.run(fixture.a.tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                INSERT INTO app.feature_events (feature_key, actor, occurred_at) VALUES ('exports', 'someone', now())
                RETURNING tenant_id
                """).collect().first!.decode(UUID.self)
        }
        #expect(stamped == fixture.a.tenant.id.rawValue)
    }

    /// The column default names the tenant the context claims without checking its signature (migration 46); the
    /// policy's `WITH CHECK` is what checks it, once per statement. So a forged or expired context still writes nothing,
    /// and every table with that default has that check.
    @Test func aForgedContextWritesNothingThroughTheColumnDefault() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let signer = try await Self.signer(handle)
        let b = fixture.b.tenant.id
        let forgeries = [
            ("\(b).\(Int(Date().timeIntervalSince1970) + 300).\(String(repeating: "0", count: 64))", "invalid tenant context"),
            (try TenantContextSigner(keyHex: String(repeating: "42", count: 32)).context(for: b, expiresAt: Date().addingTimeInterval(300)),
             "invalid tenant context"),
            ("not-a-tenant.\(Int(Date().timeIntervalSince1970) + 300).00", "invalid tenant context"),
            (signer.context(for: b, expiresAt: Date().addingTimeInterval(-60)), "expired tenant context"),
        ]
        for (forged, message) in forgeries {
            await #expect {
                try await Self.insertFeatureEvent(handle, context: forged)
            } throws: { ($0.serverMessage ?? "").contains(message) }
        }
        let events: @Sendable () async throws -> Int = {
            try await handle.database.sessions.run(b.testScope, logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT count(*) FROM app.feature_events WHERE feature_key = 'forged'").collect().first!.decode(Int.self)
            }
        }
        #expect(try await events() == 0, "a forged context wrote into the tenant it named")
        // Control: the genuine context writes, stamped with its tenant, so the refusals above are the policy's check.
        try await Self.insertFeatureEvent(handle, context: signer.context(for: b, expiresAt: Date().addingTimeInterval(300)))
        #expect(try await events() == 1)

        let unchecked = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                SELECT a.attrelid::regclass::text FROM pg_attrdef d
                JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                WHERE a.attname = 'tenant_id' AND pg_get_expr(d.adbin, d.adrelid) = 'app.context_tenant()'
                  AND NOT EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = a.attrelid AND p.polcmd IN ('*', 'a')
                                  AND pg_get_expr(p.polwithcheck, p.polrelid) LIKE '%(tenant_id = ( SELECT app.current_tenant()%')
                """, logger: TestDatabase.logger).collect().map { try $0.decode(String.self) }
        }
        #expect(unchecked.isEmpty, "tables whose default no policy checks: \(unchecked)")
        let defaults = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("""
                SELECT count(*) FROM pg_attrdef d JOIN pg_attribute a ON a.attrelid = d.adrelid AND a.attnum = d.adnum
                WHERE a.attname = 'tenant_id' AND pg_get_expr(d.adbin, d.adrelid) = 'app.context_tenant()'
                """, logger: TestDatabase.logger).collect().first!.decode(Int.self)
        }
        #expect(defaults >= 20, "the tenant tables' defaults are app.context_tenant()")
    }

    @Test func writesNamingAnotherTenantAreRefused() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let a = fixture.a.tenant.id
        let b = fixture.b.tenant.id.rawValue
        await #expect {
            try await handle.database.sessions.run(a.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                try await connection.query("""
                    INSERT INTO app.feature_events (tenant_id, feature_key, actor, occurred_at) VALUES (\(b), 'exports', 'x', now())
                    """)
            }
        } throws: { $0.sqlState == "42501" && ($0.serverMessage ?? "").contains("row-level security") }
        await #expect {
            try await handle.database.sessions.run(a.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                try await connection.query("UPDATE app.learners SET tenant_id = \(b)")
            }
        } throws: { $0.sqlState == "42501" }
        // Updates and deletes cannot reach the other tenant's rows at all.
        let touched = try await handle.database.sessions.run(a.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            var touched = 0
            for try await count in try await connection.query("""
                WITH u AS (UPDATE app.learners SET display_name = 'changed' WHERE tenant_id = \(b) RETURNING 1),
                     d AS (DELETE FROM app.feature_events WHERE tenant_id = \(b) RETURNING 1)
                SELECT (SELECT count(*) FROM u) + (SELECT count(*) FROM d)
                """).decode(Int.self) { touched += count }
            return touched
        }
        #expect(touched == 0)
        let names = try await handle.database.sessions.run(fixture.b.tenant.id.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT display_name FROM app.learners").collect().map { try $0.decode(String?.self) }
        }
        #expect(names == ["Canary"])
    }

    @Test func thePlatformScopeReadsTheDirectoryButNoRawLearnerData() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let ids = try await handle.database.sessions.run(.platform(ScopePolicy.platformCommand(operator: "test-operator")), logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT id FROM app.tenants").collect().map { try $0.decode(UUID.self) }
        }
        #expect(ids.contains(fixture.a.tenant.id.rawValue) && ids.contains(fixture.b.tenant.id.rawValue))
        for table in ["app.statements", "app.learners", "app.enrollments"] {
            await #expect {
                try await handle.database.sessions.run(.platform(ScopePolicy.platformCommand(operator: "test-operator")), logger: TestDatabase.logger) { connection in
                    try await connection.query(PostgresQuery(unsafeSQL: "SELECT count(*) FROM \(table)")).collect()
                }
            } throws: { $0.sqlState == "42501" }
        }
    }

    @Test func tenantScopeIsReadOnlyUnlessAskedOtherwise() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        await #expect {
            try await handle.database.sessions.run(fixture.a.tenant.id.testScope, logger: TestDatabase.logger) { connection in
                try await connection.query("DELETE FROM app.feature_events")
            }
        } throws: { $0.sqlState == "25006" }
    }

    // MARK: - Helpers

    static func signer(_ handle: TestDatabase) async throws -> TenantContextSigner {
        let key = try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            try await connection.query("SELECT value FROM app_private.settings WHERE key = 'tenant_context_key'", logger: TestDatabase.logger)
                .collect().first!.decode(String.self)
        }
        return try TenantContextSigner(keyHex: key)
    }

    /// Reads learners as the tenant role with a hand-made context, bypassing the helper on purpose.
    /// Inserts a feature event whose tenant is the column default's, in a transaction with `context` as the tenant
    /// role, and commits it. No `RETURNING`: that would apply the policy's `USING` to the new row too, and this is
    /// about the `WITH CHECK` alone.
    static func insertFeatureEvent(_ handle: TestDatabase, context: String) async throws {
        try await handle.database.tenantPool.client.withConnection { connection in
            try await connection.query("BEGIN", logger: TestDatabase.logger)
            do {
                try await connection.query("SELECT set_config('app.tenant_ctx', \(context), true)", logger: TestDatabase.logger)
                try await connection.query("SET LOCAL ROLE tenantscope_tenant", logger: TestDatabase.logger)
                try await connection.query("""
                    INSERT INTO app.feature_events (feature_key, actor, occurred_at) VALUES ('forged', 'someone', now())
                    """, logger: TestDatabase.logger)
                try await connection.query("COMMIT", logger: TestDatabase.logger)
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: TestDatabase.logger)
                throw error
            }
        }
    }

    static func readLearners(_ handle: TestDatabase, context: String) async throws -> Int {
        try await handle.database.tenantPool.client.withConnection { connection in
            try await connection.query("BEGIN", logger: TestDatabase.logger)
            do {
                try await connection.query("SELECT set_config('app.tenant_ctx', \(context), true)", logger: TestDatabase.logger)
                try await connection.query("SET LOCAL ROLE tenantscope_tenant", logger: TestDatabase.logger)
                let count = try await connection.query("SELECT count(*) FROM app.learners", logger: TestDatabase.logger)
                    .collect().first!.decode(Int.self)
                try await connection.query("ROLLBACK", logger: TestDatabase.logger)
                return count
            } catch {
                _ = try? await connection.query("ROLLBACK", logger: TestDatabase.logger)
                throw error
            }
        }
    }
}
