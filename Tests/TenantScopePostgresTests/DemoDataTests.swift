import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

@Suite(.database) struct DemoDataTests {
    static let realStatements = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("../shared/data/ralph-video-statements.jsonl.gz").standardizedFileURL.path

    @Test func loadsThreeTenantsIdempotentlyWithCanariesVisibleOnlyToTheirOwner() async throws {
        let handle = try TestDatabase.current
        try await DemoDataLoader.createTenants(in: handle.admin, logger: TestDatabase.logger)
        let loader = DemoDataLoader(database: handle.database, logger: TestDatabase.logger)
        let first = try await loader.load(realStatementsPath: Self.realStatements)
        #expect(first.map(\.slug) == ["acme", "globex", "initech"])

        // All 22,000 shared statements plus generated ones, spread over the three tenants.
        #expect(first.map(\.statements).reduce(0, +) > 22_000)
        #expect(first.allSatisfy { $0.statements > 3_000 })

        let second = try await loader.load(realStatementsPath: Self.realStatements)
        #expect(second.allSatisfy { $0.skipped })
        #expect(second.map(\.statements) == first.map(\.statements))

        for summary in first {
            try await handle.database.sessions.run(summary.tenant.testScope, logger: TestDatabase.logger) { connection in
                for other in first {
                    let canary = other.canary.uuidString.lowercased()
                    let hits = try await connection.query("""
                        SELECT (SELECT count(*) FROM app.learners t WHERE row_to_json(t)::text LIKE \("%" + canary + "%"))
                             + (SELECT count(*) FROM app.courses t WHERE row_to_json(t)::text LIKE \("%" + canary + "%"))
                             + (SELECT count(*) FROM app.enrollments t WHERE row_to_json(t)::text LIKE \("%" + canary + "%"))
                             + (SELECT count(*) FROM app.statements t WHERE row_to_json(t)::text LIKE \("%" + canary + "%"))
                             + (SELECT count(*) FROM app.feature_events t WHERE row_to_json(t)::text LIKE \("%" + canary + "%"))
                        """).collect().first!.decode(Int.self)
                    if other.slug == summary.slug {
                        #expect(hits >= 5, "\(summary.slug) misses its own canary")
                    } else {
                        #expect(hits == 0, "\(summary.slug) sees the canary of \(other.slug)")
                    }
                }
                // Derived facts agree with the statements: every enrolled learner has statements about the course.
                let orphans = try await connection.query("""
                    SELECT count(*) FROM app.enrollments e
                    JOIN app.learners l ON l.id = e.learner_id JOIN app.courses c ON c.id = e.course_id
                    WHERE NOT EXISTS (SELECT 1 FROM app.statements s WHERE s.actor_key = l.actor_key AND s.course_iri = c.course_iri)
                    """).collect().first!.decode(Int.self)
                #expect(orphans == 0)
                let span = try await connection.query("""
                    SELECT (SELECT extract(day FROM max("timestamp") - min("timestamp"))::int FROM app.statements),
                           (SELECT count(DISTINCT cohort)::int FROM app.enrollments),
                           (SELECT count(*) FILTER (WHERE completed_at IS NOT NULL)::int FROM app.enrollments)
                    """).collect().first!.decode((Int, Int, Int).self)
                #expect(span.0 >= 100, "data spreads over ~120 days")
                #expect(span.1 >= 4, "several cohorts")
                #expect(span.2 > 0, "some completions")
            }
        }
    }
}
