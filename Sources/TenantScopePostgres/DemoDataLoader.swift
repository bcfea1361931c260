import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Loads the demo tenants (`acme`, `globex`, `initech`) through the tenant-scoped helper.
///
/// Idempotent: a tenant that already has statements is left as it is, so `serve --demo` can be run
/// again on the same state directory.
public struct DemoDataLoader: Sendable {
    private let database: Database
    private let logger: Logger

    public init(database: Database, logger: Logger) {
        self.database = database
        self.logger = logger
    }

    /// Where the shared real statements are, relative to the project root.
    public static let defaultRealStatementsPath = "../shared/data/ralph-video-statements.jsonl.gz"

    public struct Summary: Sendable {
        public var slug: String
        public var tenant: TenantID
        public var canary: UUID
        public var statements: Int
        public var skipped: Bool
    }

    /// Creates the demo tenants that do not exist yet: an owner action, run before the server's port opens.
    public static func createTenants(in admin: AdminDatabase, logger: Logger) async throws {
        for profile in DemoTenantProfile.all {
            let slug = try TenantSlug(profile.slug)
            guard try await admin.runtime.tenants.find(slug: slug, logger: logger) == nil else { continue }
            let tenant = try await admin.tenants.create(slug: slug, name: profile.name, tier: profile.tier, region: profile.region, logger: logger)
            try await admin.runtime.audit.append(.init(actor: "demo-loader", actorKind: "operator", scopeTenant: tenant.id,
                                                       action: "tenant_created", parameters: ["slug": profile.slug], outcome: "ok"), logger: logger)
        }
    }

    /// Loads the demo data into the demo tenants (``createTenants(in:logger:)``) that have no statements
    /// yet, through the server's role and each tenant's scope.
    public func load(
        realStatementsPath: String?, anchor: Date = Date(), progress: @escaping @Sendable (String) -> Void = { _ in }
    ) async throws -> [Summary] {
        let profiles = DemoTenantProfile.all
        var real: [String: [JSONObject]] = [:]
        if let path = realStatementsPath.map({ URL(fileURLWithPath: $0).standardizedFileURL.path }) {
            if FileManager.default.fileExists(atPath: path) {
                progress("Reading real xAPI statements from \(path)")
                real = DemoDataGenerator.assignRealStatements(try await Self.readJSONLines(gzipPath: path), to: profiles)
            } else {
                progress("Real statements not found at \(path); generating synthetic data only")
            }
        }

        let generator = DemoDataGenerator(anchor: anchor)
        var summaries: [Summary] = []
        for profile in profiles {
            let slug = try TenantSlug(profile.slug)
            guard let tenant = try await database.tenants.find(slug: slug, logger: logger) else {
                throw TenantScopeError.environment("the demo tenant '\(slug)' does not exist: create the demo tenants first (createTenants)")
            }
            let scope = ScopePolicy.maintenance(of: tenant.id, job: "demo-data")
            let existing = try await database.sessions.run(scope, logger: logger) { connection in
                try await connection.query("SELECT count(*) FROM app.statements").collect().first?.decode(Int.self) ?? 0
            }
            if existing > 0 {
                progress("\(profile.slug): demo data already present (\(existing) statements)")
                summaries.append(Summary(slug: profile.slug, tenant: tenant.id, canary: DemoDataGenerator.canary(for: profile.slug), statements: existing, skipped: true))
                continue
            }
            let data = try generator.generate(profile, realStatements: real[profile.slug] ?? [])
            progress("\(profile.slug): loading \(data.statements.count) statements, \(data.facts.learners.count) learners, "
                + "\(data.facts.enrollments.count) enrollments, \(data.featureEvents.count) product events")
            try await database.sessions.run(scope, access: .readWrite, statementTimeout: .seconds(600), logger: logger) { connection in
                try await Self.insert(data, slug: profile.slug, into: connection, progress: progress)
            }
            logger.info("Demo tenant loaded", metadata: ["tenant.id": "\(tenant.id)", "demo.statements": "\(data.statements.count)"])
            summaries.append(Summary(slug: profile.slug, tenant: tenant.id, canary: data.canary, statements: data.statements.count, skipped: false))
        }
        return summaries
    }

    /// Stores the statements the way the LRS does (``StatementStore/insert(_:queueingDerivation:on:)``) and
    /// derives learners, courses, enrollments and roll-ups with the same SQL the LRS uses, so demo facts
    /// follow the one mapping. Nothing is queued: the loader derives every actor itself, at the end.
    private static func insert(
        _ data: DemoDataGenerator.TenantData, slug: String, into connection: ScopedConnection, progress: @Sendable (String) -> Void
    ) async throws {
        var written = 0
        for batch in data.statements.chunked(2000) {
            _ = try await StatementStore.insert(batch.map {
                PreparedStatement(id: $0.facts.id, json: $0.json, facts: $0.facts, stored: $0.stored, senderGaveTimestamp: true)
            }, queueingDerivation: false, on: connection)
            written += batch.count
            if written % 10_000 < 2000 || written == data.statements.count {
                progress("\(slug): \(written)/\(data.statements.count) statements")
            }
        }
        for batch in data.featureEvents.chunked(5000) {
            // tenant_id is never passed: the column default stamps it from the transaction's context.
            try await connection.execute("""
                INSERT INTO app.feature_events (id, feature_key, actor, occurred_at)
                SELECT i::uuid, f, a, o::timestamptz
                FROM unnest(\(batch.map(\.id.uuidString)), \(batch.map(\.featureKey)), \(batch.map(\.actor)),
                     \(batch.map { ISO8601Timestamp.format($0.occurredAt) })) AS e(i, f, a, o)
                ON CONFLICT DO NOTHING
                """)
        }
        progress("\(slug): deriving learners, courses, enrollments and daily roll-ups")
        try await connection.execute("SELECT app.lock_tenant_derivation()")
        try await connection.execute("SELECT app.refresh_learning_facts_fully(NULL)")
        try await connection.execute("SELECT app.catch_up_rollups('10 minutes', true)")
    }

    /// Reads a gzip-compressed JSON Lines file with the system's `gzip` (always present on Debian): the
    /// objects of its lines, parsed as the LRS parses statements. A line that is not a JSON object is skipped.
    static func readJSONLines(gzipPath: String) async throws -> [JSONObject] {
        let result = try await ProcessRunner.run("/usr/bin/gzip", ["-dc", gzipPath])
        guard result.status == 0 else {
            throw TenantScopeError.environment("cannot decompress \(gzipPath): \(result.output.prefix(200))")
        }
        return result.output.utf8.split(separator: UInt8(ascii: "\n")).compactMap { line in
            (try? JSONParser.parse(line))?.objectValue
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
