import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Moves one tenant's rows to another cluster (architecture decision 49): `tenantscope tenant move`.
///
/// 1. Holds the tenant's writes on the source: the move's session takes the tenant's move key
///    (`pg_advisory_lock`), which waits for writes in flight; new ones are refused by the tenant gate
///    (migration 28) with 503 and `Retry-After`. Reads, and every other tenant, go on.
/// 2. Copies, in one transaction on the target: the tenant's row (on a dedicated target), its learner-key
///    secret (so keyed learner hashes stay the same), and every tenant table's rows, read from one snapshot.
/// 3. Verifies each table's row count and checksum on both sides before that transaction commits; any
///    difference rolls the copy back and leaves the tenant where it was.
/// 4. Switches the placement in the control database (residency is checked there again) and audits it.
/// 5. Removes the source rows and records the tenant as departed there, so a server that routes by the old
///    placement for a moment is refused (503) instead of reading nothing or writing where nobody looks.
///
/// Runs as each cluster's owner, reading and writing the tenant's rows under row-level security with a
/// context signed by that cluster's own key: the move sees exactly the tenant's rows.
public struct TenantMover: Sendable {
    let ownerClient: PostgresClient
    let controlOwner: DatabaseEndpoint
    let audit: AuditLog
    let logger: Logger

    /// What a move did.
    public struct Report: Sendable {
        public var tenant: Tenant
        public var from: ClusterName
        public var to: ClusterName
        /// Each table and how many of the tenant's rows were copied and verified.
        public var tables: [(table: String, rows: Int)]
        /// How long the tenant's writes were held.
        public var writesHeld: Duration
    }

    /// The tenant tables in the order their rows can be inserted (a referenced table before its referrers).
    /// The move refuses to run when the database has a tenant table missing here, rather than leave it behind.
    static let tables = [
        "app.courses", "app.learners", "app.enrollments", "app.statements", "app.feature_events",
        "app.daily_learner_activity", "app.daily_feature_usage", "app.daily_active_learners", "app.daily_enrollment_outcomes",
        "app.learner_active_days", "app.rollup_state", "app.rollup_queue", "app.learning_facts_queue",
        "app.saved_views", "app.shared_links", "app.xapi_documents", "app.xapi_attachments", "app.custom_reports",
        "app.export_schedules", "app.export_jobs", "app.export_removals",
    ]

    /// Tenant tables a trigger keeps from another one (migrations 30, 44 and 45 sum `app.daily_enrollment_outcomes` by
    /// month, migration 42 counts `app.learner_active_days` by last day): not copied, since copying their source
    /// writes them on the target, but verified like the rest.
    static let derivedTables = [
        "app.monthly_course_outcomes", "app.monthly_completion_times", "app.monthly_course_outcomes_all_regions",
        "app.monthly_completion_times_all_regions", "app.monthly_cohort_outcomes_all_courses",
        "app.monthly_completion_times_all_courses", "app.learners_by_last_day",
    ]

    /// Rows per insert while copying.
    static let batchSize = 500

    /// Moves the tenant; `operatorName` is who asked, for the audit rows.
    public func move(slug: TenantSlug, to target: ClusterName, operatorName: String,
                     progress: @Sendable (String) -> Void = { _ in }) async throws -> Report {
        let tenant = try await find(slug)
        guard tenant.cluster != target else {
            throw TenantScopeError.invalidInput("the tenant '\(slug)' is already on the cluster '\(target)'")
        }
        let registry = ClusterRegistry(ownerClient: ownerClient)
        guard let targetCluster = try await registry.list(logger: logger).first(where: { $0.name == target }) else {
            throw TenantScopeError.notFound("no cluster named '\(target)'; see `tenantscope cluster list`")
        }
        if let region = targetCluster.region, region != tenant.region {
            throw TenantScopeError.conflict("residency: the cluster \(target) is in the region \(region), the tenant in \(tenant.region)")
        }
        let sourceOwner = try await ownerEndpoint(of: tenant.cluster, registry: registry)
        let targetOwner = try await ownerEndpoint(of: target, registry: registry)
        try await audit.append(.init(actor: operatorName, actorKind: "operator", scopeTenant: tenant.id, action: "tenant_move_started",
                                     parameters: ["from": tenant.cluster.rawValue, "to": target.rawValue], outcome: "ok"), logger: logger)

        return try await OneShotConnection.with(sourceOwner, logger: logger) { source in
            try await OneShotConnection.with(targetOwner, logger: logger) { destination in
                try await prepare(source, for: tenant)
                try await prepare(destination, for: tenant)
                progress("Holding \(tenant.slug)'s writes on \(tenant.cluster) (waiting for writes in flight) ...")
                let moveKey = "tenantscope.move.\(tenant.id)"
                try await source.execute("SELECT pg_advisory_lock(hashtextextended(\(moveKey), 0))", logger: logger)
                let held = ContinuousClock.now
                do {
                    let tables = try await copy(tenant, from: source, to: destination, targetIsDedicated: !target.isPool, progress: progress)
                    try await switchPlacement(of: tenant, to: target)
                    progress("Placement switched to \(target); removing the rows on \(tenant.cluster) ...")
                    try await removeSource(tenant, on: source, sourceIsDedicated: !tenant.cluster.isPool, movedTo: target)
                    try await source.execute("SELECT pg_advisory_unlock(hashtextextended(\(moveKey), 0))", logger: logger)
                    let report = Report(tenant: tenant, from: tenant.cluster, to: target, tables: tables, writesHeld: held.duration(to: .now))
                    try await audit.append(.init(actor: operatorName, actorKind: "operator", scopeTenant: tenant.id, action: "tenant_moved",
                                                 parameters: ["from": tenant.cluster.rawValue, "to": target.rawValue,
                                                              "rows": "\(tables.reduce(0) { $0 + $1.rows })"],
                                                 rowCount: tables.reduce(0) { $0 + $1.rows }, outcome: "ok"), logger: logger)
                    logger.notice("Tenant moved", metadata: ["tenant.id": "\(tenant.id)", "db.cluster": "\(target)"])
                    return report
                } catch {
                    // The placement is unchanged: the tenant stays. The copy rolled back, or (when the switch itself failed)
                    // committed and stays on the target until a retried move replaces it; nothing reads it there meanwhile
                    // (requests follow the placement, and platform reports count a cluster's rows for its own tenants only).
                    _ = try? await source.query("SELECT pg_advisory_unlock(hashtextextended(\(moveKey), 0))", logger: logger).collect()
                    _ = try? await audit.append(.init(actor: operatorName, actorKind: "operator", scopeTenant: tenant.id,
                                                  action: "tenant_move_failed", parameters: ["from": tenant.cluster.rawValue, "to": target.rawValue],
                                                  outcome: "error"), logger: logger)
                    throw error
                }
            }
        }
    }

    private func find(_ slug: TenantSlug) async throws -> Tenant {
        let rows = try await ownerClient.query(
            "SELECT \(unescaped: TenantDirectory.columns) FROM app.tenants WHERE slug = \(slug.rawValue)", logger: logger).collect()
        guard let tenant = try TenantDirectory.decode(rows).first else {
            throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
        }
        return tenant
    }

    private func ownerEndpoint(of cluster: ClusterName, registry: ClusterRegistry) async throws -> DatabaseEndpoint {
        if cluster.isPool { return controlOwner }
        guard let endpoint = try await registry.ownerEndpoint(of: cluster, logger: logger) else {
            throw TenantScopeError.notFound("no cluster named '\(cluster)'; see `tenantscope cluster list`")
        }
        return endpoint
    }

    /// Sets a session up to read and write the tenant's rows as the owner: UTC (checksums compare text), a
    /// bounded wait for locks, and the tenant's context signed with this database's own key.
    private func prepare(_ connection: PostgresConnection, for tenant: Tenant) async throws {
        let key = try await connection.query("SELECT value FROM app_private.settings WHERE key = 'tenant_context_key'", logger: logger)
            .collect().first?.decode(String.self)
        guard let key else { throw TenantScopeError.environment("a cluster's database has no tenant context key; it is not migrated") }
        let context = try TenantContextSigner(keyHex: key).context(for: tenant.id, expiresAt: Date().addingTimeInterval(6 * 3600))
        _ = try await connection.query("""
            SELECT set_config('app.tenant_ctx', \(context), false), set_config('TimeZone', 'UTC', false),
                   set_config('lock_timeout', '60s', false), set_config('statement_timeout', '0', false)
            """, logger: logger).collect()
    }

    /// Copies and verifies every table in one target transaction; returns each table's row count.
    private func copy(_ tenant: Tenant, from source: PostgresConnection, to destination: PostgresConnection, targetIsDedicated: Bool,
                      progress: @Sendable (String) -> Void) async throws -> [(table: String, rows: Int)] {
        let present = try await source.query("""
            SELECT format('%I.%I', n.nspname, c.relname) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'tenant_id' AND NOT a.attisdropped
            WHERE n.nspname = 'app' AND c.relkind IN ('r', 'p') AND c.relname <> 'tenants'
            """, logger: logger).collect().map { try $0.decode(String.self) }
        let unknown = Set(present).subtracting(Self.tables).subtracting(Self.derivedTables)
        guard unknown.isEmpty else {
            throw TenantScopeError.environment("this build cannot move the tenant table(s) \(unknown.sorted().joined(separator: ", "))")
        }
        try await source.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        try await destination.query("BEGIN", logger: logger)
        do {
            if targetIsDedicated { try await TenantRegistry.insertCopy(of: tenant, on: destination, logger: logger) }
            try await destination.query("DELETE FROM app_private.departed_tenants WHERE tenant_id = \(tenant.id.rawValue)", logger: logger)
            // The learner-key secret first: the learners' insert trigger derives their keys from it.
            let secret = try await source.query(
                "SELECT secret FROM app_private.learner_key_secrets WHERE tenant_id = \(tenant.id.rawValue)", logger: logger)
                .collect().first?.decode(ByteBuffer.self)
            if let secret {
                try await destination.query("""
                    INSERT INTO app_private.learner_key_secrets (tenant_id, secret) VALUES (\(tenant.id.rawValue), \(secret))
                    ON CONFLICT (tenant_id) DO UPDATE SET secret = EXCLUDED.secret
                    """, logger: logger)
            }
            // Rows of the tenant the target still holds (a move that died after its switch left them there) are
            // replaced, not added to: the target ends with exactly the source's rows.
            for table in Self.tables.reversed() where present.contains(table) {
                try await destination.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE tenant_id = $1", binds: Self.binds(tenant.id)),
                                            logger: logger)
            }
            var copied: [(table: String, rows: Int)] = []
            for table in Self.tables where present.contains(table) {
                let columns = try await copyableColumns(of: table, on: source)
                let rows = try await copyRows(of: table, columns: columns, tenant: tenant.id, from: source, to: destination)
                let expected = try await checksum(of: table, columns: columns, tenant: tenant.id, on: source)
                let found = try await checksum(of: table, columns: columns, tenant: tenant.id, on: destination)
                guard expected == found, expected.rows == rows else {
                    throw TenantScopeError.environment(
                        "the copy of \(table) does not match: \(expected.rows) rows on the source, \(found.rows) copied (checksums differ); nothing was moved")
                }
                progress("  \(table): \(rows) rows copied and verified")
                copied.append((table, rows))
            }
            for table in Self.derivedTables where present.contains(table) {
                let columns = try await copyableColumns(of: table, on: source)
                let expected = try await checksum(of: table, columns: columns, tenant: tenant.id, on: source)
                let found = try await checksum(of: table, columns: columns, tenant: tenant.id, on: destination)
                guard expected == found else {
                    throw TenantScopeError.environment(
                        "\(table), kept by a trigger, does not match after the copy: \(expected.rows) rows on the source, \(found.rows) on the target; nothing was moved")
                }
                progress("  \(table): \(found.rows) rows derived and verified")
            }
            try await destination.commit(logger: logger)
            try await source.commit(logger: logger)
            return copied
        } catch {
            _ = try? await destination.query("ROLLBACK", logger: logger)
            _ = try? await source.query("ROLLBACK", logger: logger)
            throw error
        }
    }

    /// The columns a copy writes: all but generated ones (computed again) and identity ones (the target's
    /// own sequence numbers them; only their order matters, and rows are copied in it).
    private func copyableColumns(of table: String, on connection: PostgresConnection) async throws -> [String] {
        try await connection.query("""
            SELECT quote_ident(a.attname) FROM pg_attribute a
            WHERE a.attrelid = \(table)::regclass AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = '' AND a.attidentity = ''
            ORDER BY a.attnum
            """, logger: logger).collect().map { try $0.decode(String.self) }
    }

    private func copyRows(of table: String, columns: [String], tenant: TenantID, from source: PostgresConnection,
                          to destination: PostgresConnection) async throws -> Int {
        let list = columns.joined(separator: ", ")
        let identity = try await source.query("""
            SELECT quote_ident(a.attname) FROM pg_attribute a WHERE a.attrelid = \(table)::regclass AND a.attidentity <> ''
            """, logger: logger).collect().first?.decode(String.self)
        let order = identity.map { " ORDER BY \($0)" } ?? ""
        let rows = try await source.query(PostgresQuery(
            unsafeSQL: "SELECT row_to_json(t)::text FROM (SELECT \(list) FROM \(table) WHERE tenant_id = $1\(order)) t",
            binds: Self.binds(tenant)), logger: logger)
        var batch: [String] = []
        var count = 0
        func flush() async throws {
            guard !batch.isEmpty else { return }
            var binds = PostgresBindings()
            binds.append("[" + batch.joined(separator: ",") + "]")
            try await destination.query(PostgresQuery(
                unsafeSQL: "INSERT INTO \(table) (\(list)) SELECT \(list) FROM json_populate_recordset(NULL::\(table), $1::json)",
                binds: binds), logger: logger)
            count += batch.count
            batch.removeAll(keepingCapacity: true)
        }
        for try await row in rows.decode(String.self) {
            batch.append(row)
            if batch.count == Self.batchSize { try await flush() }
        }
        try await flush()
        return count
    }

    /// A table's rows of the tenant on one side: how many, and a hash of their text (each row's md5, sorted).
    private func checksum(of table: String, columns: [String], tenant: TenantID, on connection: PostgresConnection) async throws
        -> Checksum {
        let row = try await connection.query(PostgresQuery(unsafeSQL: """
            SELECT count(*)::bigint, coalesce(md5(string_agg(h, '' ORDER BY h)), '')
            FROM (SELECT md5(row_to_json(t)::text) AS h FROM (SELECT \(columns.joined(separator: ", ")) FROM \(table) WHERE tenant_id = $1) t) x
            """, binds: Self.binds(tenant)), logger: logger).collect().first!
        let (rows, hash) = try row.decode((Int, String).self)
        return Checksum(rows: rows, hash: hash)
    }

    /// `$1`: the tenant's id.
    private static func binds(_ tenant: TenantID) -> PostgresBindings {
        var binds = PostgresBindings()
        binds.append(tenant.rawValue)
        return binds
    }

    private struct Checksum: Equatable {
        var rows: Int
        var hash: String
    }

    private func switchPlacement(of tenant: Tenant, to target: ClusterName) async throws {
        do {
            try await ownerClient.query("UPDATE app.tenants SET cluster = \(target.rawValue) WHERE id = \(tenant.id.rawValue)", logger: logger)
        } catch {
            throw ResidencyRefusal.conflict(from: error) ?? error
        }
    }

    /// Removes the tenant's rows from the source, in one transaction, and records it as departed there. A
    /// dedicated source drops the tenant's row (its tables' rows go with it); the control database keeps the
    /// row, which routes the tenant, and deletes the tables' rows one by one, referrers first.
    private func removeSource(_ tenant: Tenant, on source: PostgresConnection, sourceIsDedicated: Bool, movedTo target: ClusterName) async throws {
        try await source.query("BEGIN", logger: logger)
        do {
            if sourceIsDedicated {
                try await source.query("DELETE FROM app.tenants WHERE id = \(tenant.id.rawValue)", logger: logger)
            } else {
                // The derived tables last: deleting their source first lowers them through the trigger, and a
                // derived row deleted before its source would come back as a negative difference.
                for table in Self.tables.reversed() + Self.derivedTables {
                    try await source.query(PostgresQuery(unsafeSQL: "DELETE FROM \(table) WHERE tenant_id = $1", binds: Self.binds(tenant.id)),
                                           logger: logger)
                }
                try await source.query("DELETE FROM app_private.shared_link_tenants WHERE tenant_id = \(tenant.id.rawValue)", logger: logger)
            }
            try await source.query("""
                INSERT INTO app_private.departed_tenants (tenant_id, moved_to) VALUES (\(tenant.id.rawValue), \(target.rawValue))
                ON CONFLICT (tenant_id) DO UPDATE SET moved_to = EXCLUDED.moved_to, moved_at = now()
                """, logger: logger)
            try await source.commit(logger: logger)
        } catch {
            _ = try? await source.query("ROLLBACK", logger: logger)
            throw error
        }
    }
}
