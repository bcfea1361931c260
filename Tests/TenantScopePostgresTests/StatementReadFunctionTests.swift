import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// LRS statement reads through their read functions (architecture decision 62): one exchange each once the function
/// exists, the same statements in the same order as the scoped transaction answers, and nothing of another tenant.
@Suite(.serialized, .freshDatabase) struct StatementReadFunctionTests {
    @Test func everyStatementReadAnswersTheSameInOneCallAsInATransaction() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let tenant = fixture.a.tenant
        let scope = tenant.id.testScope
        let registration = UUID()
        let target = UUID()
        let course = "https://example.com/course/7"
        let batch = try VoidingRaceTests.batch([
            XAPIJSON.statement(id: target, actor: "mailto:bo@example.com", object: course),
            XAPIJSON.statement(actor: "mailto:ann@example.com", verb: "http://adlnet.gov/expapi/verbs/completed", object: course,
                               extra: #","context":{"registration":"\#(registration.uuidString.lowercased())"}"#),
            XAPIJSON.statement(actor: "mailto:ann@example.com", object: "https://example.com/lesson/3",
                               extra: #","context":{"contextActivities":{"parent":[{"id":"\#(course)"}]}}"#),
            XAPIJSON.statement(actor: "mailto:cy@example.com"),
            XAPIJSON.statement(actor: "mailto:cy@example.com", verb: "http://adlnet.gov/expapi/verbs/attempted"),
        ])
        _ = try await handle.database.statements.store(batch, in: scope, logger: TestDatabase.logger)
        // The same statement in the other tenant: never part of A's answers.
        let ofB = try VoidingRaceTests.batch([XAPIJSON.statement(actor: "mailto:bo@example.com", object: course)])
        _ = try await handle.database.statements.store(ofB, in: fixture.b.tenant.id.testScope, logger: TestDatabase.logger)
        let voiding = try VoidingRaceTests.batch([XAPIJSON.voiding(batch[3].id)])
        _ = try await handle.database.statements.store(voiding, in: scope, logger: TestDatabase.logger)

        var filters: [(String, StatementFilter)] = [("all", StatementFilter())]
        func filter(_ name: String, _ change: (inout StatementFilter) -> Void) {
            var filter = StatementFilter()
            change(&filter)
            filters.append((name, filter))
        }
        filter("agent") { $0.agentKey = batch[1].facts.actorKey }
        filter("verb") { $0.verb = "http://adlnet.gov/expapi/verbs/completed" }
        filter("activity") { $0.activity = course }
        filter("related activities") { $0.activity = course; $0.relatedActivities = true }
        filter("registration") { $0.registration = registration }
        filter("related agents") {
            $0.agentKey = batch[1].facts.actorKey
            $0.agentIdentifier = #"{"mbox":"mailto:ann@example.com"}"#
            $0.relatedAgents = true
        }
        filter("since and until") {
            $0.since = ISO8601Timestamp.formatMicroseconds(Date().addingTimeInterval(-3600))
            $0.until = ISO8601Timestamp.formatMicroseconds(Date().addingTimeInterval(3600))
        }
        filter("descending, two per page") { $0.limit = 2 }
        filter("ascending, two per page") { $0.ascending = true; $0.limit = 2 }
        filter("agent of a voided target") { $0.agentKey = batch[3].facts.actorKey }

        let recorder = LogRecorder()
        try await ScopedReadFunctionTests.withRecordedConnection(handle, recorder) { connection in
            func inOneCall(_ statement: BoundStatement) async throws -> (statements: [StatementStore.StoredStatement], exchanges: Int) {
                var rows: [PostgresRow] = []
                let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) {
                    rows = try await handle.database.sessions.readRows(scope, statement, columnTypes: StatementStore.columnTypes, on: connection,
                                                                       logger: TestDatabase.logger)
                }
                return (try StatementStore.storedStatements(rows), exchanges)
            }
            func inTransaction(_ statement: BoundStatement) async throws -> [StatementStore.StoredStatement] {
                try StatementStore.storedStatements(try await handle.database.sessions.run(
                    .tenant(scope), on: connection, access: .readOnly, statementTimeout: nil, retry: .anywhere, logger: TestDatabase.logger) {
                    try await $0.rows(statement)
                })
            }
            var pages = filters
            // The second page of the paged query, through its cursor.
            let (first, _) = try await inOneCall(StatementStore.page(filters.first { $0.0.hasPrefix("ascending") }!.1))
            #expect(first.count == 3)
            pages.append(("ascending, second page", filters.first { $0.0.hasPrefix("ascending") }!.1.continuing(afterStored: first[1].stored,
                                                                                                                  id: first[1].id)))
            let descending = filters.first { $0.0.hasPrefix("descending") }!.1
            let (newest, _) = try await inOneCall(StatementStore.page(descending))
            pages.append(("descending, second page", descending.continuing(afterStored: newest[1].stored, id: newest[1].id)))
            for (name, filter) in pages {
                let statement = StatementStore.page(filter)
                _ = try await inOneCall(statement)
                let (called, exchanges) = try await inOneCall(statement)
                #expect(exchanges == 1, "\(name)")
                let answered = try await inTransaction(statement)
                #expect(called == answered, "\(name)")
                #expect(!called.isEmpty, "\(name): a filter that selects nothing proves nothing")
                #expect(!called.contains { $0.id == ofB[0].id }, "\(name): another tenant's statement")
            }
            for (id, voided) in [(target, false), (batch[3].id, true), (batch[3].id, false)] {
                let statement = StatementStore.statement(id: id, voided: voided)
                let (called, _) = try await inOneCall(statement)
                #expect(called == (try await inTransaction(statement)))
                #expect(called.map(\.id) == (id == batch[3].id && !voided ? [] : [id]))
            }
            // The by-id read is one text and its call is prepared; the pages, one text per combination of filters, call
            // unnamed and take none of the process's prepared slots.
            let prepared = try await connection.query("SELECT statement FROM pg_prepared_statements", logger: TestDatabase.logger)
                .collect().map { try $0.decode(String.self) }
            func isPrepared(_ statement: BoundStatement) -> Bool {
                let name = ScopedReadFunctions.shared.function(for: statement, columnTypes: StatementStore.columnTypes).name
                return prepared.contains { $0.contains(name) }
            }
            #expect(isPrepared(StatementStore.statement(id: target, voided: false)))
            for (name, filter) in pages {
                #expect(!isPrepared(StatementStore.page(filter)), "\(name)")
            }
        }
    }

    /// The Activities and Agents resources read through read functions too: the tenant's own statements only.
    @Test func activityDefinitionsAndActorNamesAreTheTenantsOwn() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let store = handle.database.statements
        let activity = "https://example.com/objects/\(UUID().uuidString.lowercased())"
        let ofA = try VoidingRaceTests.batch([XAPIJSON.statement(actor: "mailto:dee@example.com", object: activity),
                                              XAPIJSON.statement(actor: "mailto:dee@example.com", object: activity)])
        let ofB = try VoidingRaceTests.batch([XAPIJSON.statement(actor: "mailto:dee@example.com", object: activity)])
        _ = try await store.store(ofA, in: fixture.a.tenant.id.testScope, logger: TestDatabase.logger)
        _ = try await store.store(ofB, in: fixture.b.tenant.id.testScope, logger: TestDatabase.logger)
        let definitions = try await store.activityDefinitions(id: activity, in: fixture.a.tenant.id.testScope, logger: TestDatabase.logger)
        #expect(definitions.count == 2)
        #expect(try await store.actorNames(key: ofA[0].facts.actorKey, in: fixture.a.tenant.id.testScope, logger: TestDatabase.logger) == ["Ann"])
        // A tenant with none of them: nothing, though the other tenant has both.
        let third = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("objects")), name: "Objects",
                                                          logger: TestDatabase.logger)
        #expect(try await store.activityDefinitions(id: activity, in: third.id.testScope, logger: TestDatabase.logger).isEmpty)
        #expect(try await store.actorNames(key: ofA[0].facts.actorKey, in: third.id.testScope, logger: TestDatabase.logger).isEmpty)
    }

    @Test func aPageUnderAnyLimitIsOneFunction() async throws {
        var small = StatementFilter()
        small.limit = 3
        var large = StatementFilter()
        large.limit = 400
        #expect(StatementStore.page(small).sql == StatementStore.page(large).sql)
        #expect(ScopedReadFunctions.shared.function(for: StatementStore.page(small), columnTypes: StatementStore.columnTypes).name
                == ScopedReadFunctions.shared.function(for: StatementStore.page(large), columnTypes: StatementStore.columnTypes).name)
    }
}
