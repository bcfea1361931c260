import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Erasing a learner, on random data: nothing of theirs is left, every other learner's figures are
/// unchanged, and every served report equals the same report after a full rebuild and from raw tables.
/// Serialized: the seeds run one after another (each derives and rebuilds a tenant), not beside every other suite at once.
@Suite(.serialized, .database) struct LearnerErasurePropertyTests {
    typealias Rollups = RollupPropertyTests

    @Test(arguments: [UInt64(11), 12, 13])
    func erasureRemovesOneLearnerAndLeavesEveryOtherFigureAsARebuildWouldHaveIt(seed: UInt64) async throws {
        let handle = try TestDatabase.current
        let database = handle.database
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("erase")), name: "Erasure", logger: TestDatabase.logger)
        let other = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("erase")), name: "Bystander", logger: TestDatabase.logger)
        let world = Rollups.World(database: database, runner: ReportRunner(catalog: try StandardReports.catalog(), database: database),
                                  rollups: RollupService(database: database, logger: TestDatabase.logger), tenants: [tenant])
        let host = "erase\(seed).example"
        let start = Date().addingTimeInterval(-40 * 86_400)
        // Several titles per course: a title that came from the erased learner's statement must change as a rebuild changes it.
        let statements = RandomStatements.make(seed: seed, count: 400, start: start, spanDays: 41, host: host, titleVariants: 3)
        for batch in stride(from: 0, to: statements.count, by: 100) {
            try await Rollups.ingest(Array(statements[batch..<min(batch + 100, statements.count)]), into: tenant.id, world: world)
        }
        // The same learner in another tenant must keep everything.
        try await Rollups.ingest(Array(statements.prefix(50)), into: other.id, world: world)
        let victim = "mbox:mailto:learner0@\(host)"
        for (who, id) in [(victim, "victim-state"), ("mbox:mailto:learner1@\(host)", "bystander-state")] {
            try await database.documents.write(
                DocumentContent(bytes: Array(#"{"page":3}"#.utf8), contentType: "application/json"), mode: .replace,
                to: DocumentAddress(kind: .state, activityID: "https://\(host)/course/0", agentKey: who), id: id,
                preconditions: .init(), in: tenant.id.testScope, logger: TestDatabase.logger)
        }
        for each in [tenant, other] { try await world.rollups.catchUp(each.id) }

        let othersBefore = try await Self.othersFigures(database, tenant.id, except: victim)
        let victimStatements = try await Self.count(database, tenant.id, "SELECT count(*)::int FROM app.statements WHERE actor_key = '\(victim)'")
        #expect(victimStatements > 0, "the seed gives the victim statements")
        let otherTenantBefore = try await Self.count(database, other.id, "SELECT count(*)::int FROM app.statements")

        let outcome = try await LearnerErasure(database: database).erase(actorKey: victim, in: tenant.id.testScope, logger: TestDatabase.logger)
        #expect(outcome.statements == victimStatements && outcome.documents == 1 && outcome.learnerRows == 1)

        for sql in ["SELECT count(*)::int FROM app.statements WHERE actor_key = '\(victim)'",
                    "SELECT count(*)::int FROM app.learners WHERE actor_key = '\(victim)'",
                    "SELECT count(*)::int FROM app.xapi_documents WHERE agent_key = '\(victim)'",
                    "SELECT count(*)::int FROM app.statements WHERE statement::text LIKE '%learner0@\(host)%' AND actor_key = '\(victim)'"] {
            #expect(try await Self.count(database, tenant.id, sql) == 0, "\(sql)")
        }
        #expect(try await Self.count(database, tenant.id, "SELECT count(*)::int FROM app.xapi_documents WHERE document_id = 'bystander-state'") == 1)
        #expect(try await Self.othersFigures(database, tenant.id, except: victim) == othersBefore, "seed \(seed): other learners changed")
        #expect(try await Self.count(database, other.id, "SELECT count(*)::int FROM app.statements") == otherTenantBefore)

        // Served reports right now equal the raw-table answers, and equal what a full rebuild serves.
        try await Rollups.checkServedEqualsCold(world, stage: "after erasure, seed \(seed)")
        var before: [[[ReportCell]]] = []
        for (name, parameters, attributes) in Rollups.tenantRuns {
            before.append(try await Rollups.report(world, tenant.id, name, parameters, attributes, path: .served))
        }
        try await world.rollups.catchUp(tenant.id, fullRebuild: true)
        for (index, (name, parameters, attributes)) in Rollups.tenantRuns.enumerated() {
            let rebuilt = try await Rollups.report(world, tenant.id, name, parameters, attributes, path: .served)
            #expect(rebuilt == before[index], "seed \(seed): \(name) \(parameters) \(attributes) differs from a rebuild")
        }
    }

    /// Every other learner's derived facts: their learner row and enrollments, in a stable order.
    static func othersFigures(_ database: Database, _ tenant: TenantID, except victim: String) async throws -> [String] {
        try await database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            var rows: [String] = []
            for try await text in try await connection.query("""
                SELECT concat_ws('|', l.actor_key, l.display_name, l.region, l.first_seen, l.last_seen, c.course_iri, e.enrolled_at,
                                 e.completed_at, e.cohort, e.registration)
                FROM app.learners l LEFT JOIN app.enrollments e ON e.learner_id = l.id LEFT JOIN app.courses c ON c.id = e.course_id
                WHERE l.actor_key <> \(victim) ORDER BY 1
                """).decode(String.self) {
                rows.append(text)
            }
            return rows
        }
    }

    static func count(_ database: Database, _ tenant: TenantID, _ sql: String) async throws -> Int {
        try await database.sessions.run(tenant.testScope, logger: TestDatabase.logger) { connection in
            try await connection.query(PostgresQuery(unsafeSQL: sql)).collect().first?.decode(Int.self) ?? -1
        }
    }
}
