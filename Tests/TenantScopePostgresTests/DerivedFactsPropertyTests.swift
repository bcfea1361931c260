import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The SQL that derives learners, courses and enrollments (migration 4) against the reference model
/// (``LearningFacts``) on random statements ingested in several batches, with voiding in later batches
/// and a voiding statement that arrives before its target.
@Suite(.database) struct DerivedFactsPropertyTests {
    /// With `derivingBetweenBatches`, the roll-up service catches up after every batch, so later batches
    /// take the merge of new statements into derived actors (decision 36) rather than one full derivation.
    @Test(arguments: [UInt64(1), 2, 3, 4], [false, true])
    func derivedTablesEqualTheReferenceModel(seed: UInt64, derivingBetweenBatches: Bool) async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("prop")), name: "Property", logger: TestDatabase.logger)
        // Several titles per course: which statement a course's title came from, and what voiding it does, shows.
        let statements = RandomStatements.make(seed: seed, count: 160, titleVariants: 3)
        let ids = statements.map { XAPIJSON.object($0)["id"]!.stringValue! }
        var rng = SeededGenerator(seed: seed &+ 99)
        let voided = ids.filter { _ in rng.next() % 10 == 0 }
        // Batch 1 carries a voiding statement for a statement of batch 3 (it arrives before its target).
        let batches = [
            Array(statements[0..<60]) + [RandomStatements.voiding(ids[130])],
            Array(statements[60..<90]),
            Array(statements[90..<120]),
            Array(statements[120...]),
            voided.map(RandomStatements.voiding),
        ]
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "property"])
        var allFacts: [StatementFacts] = []
        for batch in batches where !batch.isEmpty {
            let prepared = try StatementBatch.parse(Data(XAPIJSON.array(batch).utf8), validator: validator)
            allFacts += prepared.map(\.facts)
            _ = try await handle.database.statements.store(prepared, in: tenant.id.testScope, logger: TestDatabase.logger)
            if derivingBetweenBatches {
                try await RollupService(database: handle.database, logger: TestDatabase.logger).catchUp(tenant.id)
            }
        }
        try await RollupService(database: handle.database, logger: TestDatabase.logger).catchUp(tenant.id)
        let expected = LearningFacts(statements: allFacts)
        #expect(!expected.enrollments.isEmpty && expected.enrollments.contains { $0.completedAt != nil })

        let iso = ISO8601Timestamp.format
        let actual = try await handle.database.sessions.run(tenant.id.testScope, logger: TestDatabase.logger) { connection in
            var learners: [String] = []
            for try await (key, name, region, first, last) in try await connection.query("""
                SELECT actor_key, display_name, region, first_seen, last_seen FROM app.learners ORDER BY actor_key
                """).decode((String, String?, String?, Date, Date).self) {
                learners.append("\(key)|\(name ?? "-")|\(region ?? "-")|\(iso(first))|\(iso(last))")
            }
            var courses: [String] = []
            for try await (iri, title) in try await connection.query("SELECT course_iri, title FROM app.courses ORDER BY course_iri")
                .decode((String, String?).self) {
                courses.append("\(iri)|\(title ?? "-")")
            }
            var enrollments: [String] = []
            for try await (key, iri, enrolled, completed, cohort, registration) in try await connection.query("""
                SELECT l.actor_key, c.course_iri, e.enrolled_at, e.completed_at, e.cohort, e.registration
                FROM app.enrollments e JOIN app.learners l ON l.id = e.learner_id JOIN app.courses c ON c.id = e.course_id
                ORDER BY 1, 2
                """).decode((String, String, Date, Date?, String, UUID?).self) {
                enrollments.append("\(key)|\(iri)|\(iso(enrolled))|\(completed.map(iso) ?? "-")|\(cohort)|\(registration?.uuidString ?? "-")")
            }
            // Roll-ups caught up from the watermark equal a full recount from the raw statements.
            let rollupDifferences = try await connection.query("""
                WITH raw AS (
                  SELECT ("timestamp" AT TIME ZONE 'UTC')::date AS day, app.learner_key(actor_key) AS learner_hash, count(*)::int AS statements
                  FROM app.statements WHERE NOT voided AND voids IS NULL GROUP BY 1, 2)
                SELECT count(*)::int FROM (
                  (SELECT day, learner_hash, statements FROM app.daily_learner_activity EXCEPT SELECT * FROM raw)
                  UNION ALL
                  (SELECT * FROM raw EXCEPT SELECT day, learner_hash, statements FROM app.daily_learner_activity)) d
                """).collect().first!.decode(Int.self)
            return (learners, courses, enrollments, rollupDifferences)
        }
        #expect(actual.0 == expected.learners.map { "\($0.actorKey)|\($0.displayName ?? "-")|\($0.region ?? "-")|\(iso($0.firstSeen))|\(iso($0.lastSeen))" })
        #expect(actual.1 == expected.courses.map { "\($0.iri)|\($0.title ?? "-")" })
        #expect(actual.2 == expected.enrollments.map {
            "\($0.actorKey)|\($0.courseIRI)|\(iso($0.enrolledAt))|\($0.completedAt.map(iso) ?? "-")|\($0.cohort)|\($0.registration?.uuidString ?? "-")"
        })
        #expect(actual.3 == 0)
    }
}

/// The 22,000 real statements of the shared dataset, sent over HTTP in batches of 500.
@Suite(.database) struct RealStatementsIngestTests {
    @Test func theSharedRealStatementsIngestWithoutASingleRejection() async throws {
        let statements = try await DemoDataLoader.readJSONLines(gzipPath: DemoDataTests.realStatements)
        #expect(statements.count == 22_000)
        let batches = stride(from: 0, to: statements.count, by: 500).map { start in
            (start, JSONValue.array(statements[start..<min(start + 500, statements.count)].map(JSONValue.object)).jsonText)
        }
        let total = statements.count
        // What is tested is the statements' acceptance, not the tenant's LRS rate (TenantLimitsHTTPTests):
        // sent as fast as the machine allows, 22,000 statements outrun the standard tier's 200/s.
        try await LRSFixture.with(prepare: { fixture in
            try await fixture.handle.admin.tiers.setOverride(.init(ingest: RatePolicy(perSecond: 1_000_000, burst: 1_000_000)),
                                                             of: fixture.a.tenant.id, logger: TestDatabase.logger)
        }) { client, fixture in
            var rejected: [String] = []
            for (start, body) in batches {
                try await client.execute(uri: "/xAPI/statements", method: .post, headers: fixture.a.headers, body: ByteBuffer(string: body)) { response in
                    if response.status != .ok { rejected.append("batch at \(start): \(String(buffer: response.body))") }
                }
            }
            #expect(rejected == [])
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.statements") == ["\(total)"])
            #expect(try await fixture.rows(fixture.b, "SELECT count(*)::text FROM app.statements") == ["0"])
        }
    }
}
