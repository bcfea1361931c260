import Foundation
import PostgresNIO
@testable import TenantScopeCore
@testable import TenantScopePostgres

/// Two tenants with a unique canary planted in a row of every tenant table.
struct TwoTenants: Sendable {
    struct Member: Sendable {
        let tenant: Tenant
        let canary: String

        /// SQL matching a row of `t` that carries this member's canary, as text or (a `bytea` column, as
        /// `row_to_json` prints it) in hex.
        var rowMatch: String {
            "(row_to_json(t)::text LIKE '%\(canary)%' OR row_to_json(t)::text LIKE '%\(Hex.encode(Array(canary.utf8)))%')"
        }

        /// `rowMatch`, except for tables that hold no free text to plant a canary in (only ids and times):
        /// there a row of this member is one stamped with its tenant id.
        func rowMatch(in table: String) -> String {
            TwoTenants.tablesWithoutText.contains(table) ? "(t.tenant_id = '\(tenant.id)')" : rowMatch
        }
    }

    /// Tenant tables whose rows carry nothing but ids, times, counts and keyed learner hashes (a keyed hash
    /// of the canary actor differs per tenant, so it cannot mark the row as this member's from another tenant).
    static let tablesWithoutText: Set<String> = [
        "app.rollup_state", "app.daily_active_learners", "app.daily_learner_activity", "app.learner_active_days",
        "app.rollup_queue", "app.monthly_completion_times", "app.monthly_completion_times_all_regions",
        "app.monthly_completion_times_all_courses", "app.learners_by_last_day", "app.export_removals",
    ]

    let a: Member
    let b: Member

    /// The tables that hold `tenant_id`, read from the catalog so a new table is covered automatically.
    static func tenantTables(_ handle: TestDatabase) async throws -> [String] {
        try await IsolationProbe.tenantTables(in: handle.admin, logger: TestDatabase.logger)
    }

    static func make(_ handle: TestDatabase) async throws -> TwoTenants {
        TwoTenants(a: try await member(handle), b: try await member(handle))
    }

    static func uniqueSlug(_ prefix: String = "t") -> String {
        prefix + "-" + UUID().uuidString.prefix(12).lowercased()
    }

    /// A new tenant with nothing in it, its slug `prefix` and a unique suffix: for a test that fills it itself.
    static func empty(_ handle: TestDatabase, _ prefix: String, name: String) async throws -> Tenant {
        try await handle.admin.tenants.create(slug: TenantSlug(uniqueSlug(prefix)), name: name, logger: TestDatabase.logger)
    }

    private static func member(_ handle: TestDatabase) async throws -> Member {
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(uniqueSlug()), name: "Fixture tenant", logger: TestDatabase.logger)
        let canary = UUID().uuidString.lowercased()
        let learner = UUID()
        let course = UUID()
        try await handle.database.sessions.run(tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
            try await connection.execute("""
                INSERT INTO app.learners (id, actor_key, display_name, first_seen, last_seen)
                VALUES (\(learner), \("mbox:mailto:canary-\(canary)@fixture.example"), 'Canary', now(), now())
                """)
            try await connection.execute("""
                INSERT INTO app.courses (id, course_iri, title) VALUES (\(course), \("https://fixture.example/\(canary)"), 'Canary course')
                """)
            try await connection.execute("""
                INSERT INTO app.enrollments (learner_id, course_id, enrolled_at, completed_at, cohort, registration)
                VALUES (\(learner), \(course), now(), now(), \("cohort-\(canary)"), \(UUID(uuidString: canary)!))
                """)
            let statement = #"{"id":"\#(UUID().uuidString)","actor":{"mbox":"mailto:canary-\#(canary)@fixture.example"}}"#
            try await connection.execute("""
                INSERT INTO app.statements (id, statement, actor_key, verb_id, object_id, "timestamp")
                VALUES (gen_random_uuid(), \(statement)::jsonb, \("mbox:mailto:canary-\(canary)@fixture.example"),
                        'http://adlnet.gov/expapi/verbs/experienced', \("https://fixture.example/\(canary)"), now())
                """)
            try await connection.execute("""
                INSERT INTO app.feature_events (feature_key, actor, occurred_at) VALUES (\("canary-\(canary)"), \("canary-\(canary)"), now())
                """)
            try await connection.execute("""
                WITH view AS (
                  INSERT INTO app.saved_views (name, days, created_by) VALUES (\("view-\(canary)"), 30, \("canary-\(canary)")) RETURNING id)
                INSERT INTO app.shared_links (view_id, expires_at, created_by)
                SELECT id, now() + interval '1 day', \("canary-\(canary)") FROM view
                """)
            // A queued derivation, of an actor with no statements: deriving it (if a test's roll-up pass
            // does) removes nothing else of the fixture.
            try await connection.execute("""
                INSERT INTO app.learning_facts_queue (actor_key) VALUES (\("mbox:mailto:queued-canary-\(canary)@fixture.example"))
                """)
            // An xAPI State document whose id and content carry the canary.
            try await connection.execute("""
                INSERT INTO app.xapi_documents (kind, activity_id, agent_key, registration, document_id, content, content_type, etag)
                VALUES ('state', \("https://fixture.example/\(canary)"), \("mbox:mailto:canary-\(canary)@fixture.example"), '',
                        \("state-\(canary)"), convert_to(\("{\"canary\":\"\(canary)\"}"), 'UTF8'), 'application/json',
                        repeat('0', 40))
                """)
            // xAPI attachment content whose bytes carry the canary, under their SHA-256 as the LRS stores it.
            try await connection.execute("""
                INSERT INTO app.xapi_attachments (sha2, content, content_type)
                VALUES (encode(sha256(convert_to(\("attachment-\(canary)"), 'UTF8')), 'hex'),
                        convert_to(\("attachment-\(canary)"), 'UTF8'), 'text/plain')
                """)
            // A custom report whose title and SQL carry the canary.
            try await connection.execute("""
                INSERT INTO app.custom_reports (name, title, sql, sql_sha256, created_by)
                VALUES (\("canary_\(canary.replacingOccurrences(of: "-", with: "_"))"), \("report-\(canary)"), \("SELECT 'custom-\(canary)'"),
                        repeat('0', 64), 'fixture')
                """)
            // A finished-with-failure export job and a weekly export schedule (never due while tests run: its
            // day is not today), both naming the canary.
            try await connection.execute("""
                INSERT INTO app.export_jobs (source, format, state, requested_by, requested_kind, requested_role, error)
                VALUES ('statements', 'ndjson', 'failed', \("canary-\(canary)"), 'tenant_user', 'admin', \("export-\(canary)"))
                """)
            // A file queued for removal (ids and an extension only).
            try await connection.execute("INSERT INTO app.export_removals (job_id, file_extension) VALUES (gen_random_uuid(), 'csv')")
            try await connection.execute("""
                INSERT INTO app.export_schedules (report, format, cadence, hour, weekday, created_by, created_role)
                VALUES ('active_learners', 'csv', 'weekly', 6, ((extract(isodow FROM now())::int + 2) % 7) + 1, \("canary-\(canary)"), 'admin')
                """)
            // Roll-ups too, so every tenant table holds a row of this tenant; then a queued roll-up day
            // (ids and a date only), which the catch-up would have taken.
            try await connection.execute("SELECT app.catch_up_rollups('10 minutes', true)")
            try await connection.execute("INSERT INTO app.rollup_queue (day) VALUES (current_date)")
        }
        return Member(tenant: tenant, canary: canary)
    }
}

extension Error {
    /// The SQLSTATE of a PostgreSQL error, wherever postgres-nio wrapped it.
    var sqlState: String? { (self as? PSQLError)?.serverInfo?[.sqlState] }
    var serverMessage: String? { (self as? PSQLError)?.serverInfo?[.message] }
}
