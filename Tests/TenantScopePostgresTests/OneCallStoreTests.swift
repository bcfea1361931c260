import Crypto
import Foundation
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Saved views and shared links, custom reports, the export-job and schedule API, multipart statement batches and attachment reads,
/// each operation one call of its session function (architecture decision 62): counted through the stores themselves,
/// on a second handle whose pools log every protocol message, after a first run of each operation has made its function
/// on the connection. Each also keeps to its tenant: the other tenant's ids find nothing.
@Suite(.serialized, .freshDatabase) struct OneCallStoreTests {
    /// `body` with a second handle on the test's database, its pools' connections logging to `recorder`, one connection
    /// per pool, so an operation always finds the functions an earlier one made (a second connection would count the
    /// creation of its functions). Only the two pools run: not the look for dedicated clusters every five seconds
    /// (``Database/withRunningClients(_:)``), whose query would count too.
    static func withRecordedDatabase(_ handle: TestDatabase, _ recorder: LogRecorder, _ body: (Database) async throws -> Void) async throws {
        var limits = TestDatabase.limits
        (limits.appConnections, limits.tenantConnections) = (1, 1)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: recorder.logger, limits: limits)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for pool in [database.pool, database.tenantPool] {
                group.addTask { await pool.run() }
            }
            defer { group.cancelAll() }
            for pool in [database.pool, database.tenantPool] { await pool.waitUntilRunning() }
            try await body(database)
        }
    }

    /// What `work` returns, and how many exchanges it took, after a first run that made its functions.
    static func measured<Result>(_ recorder: LogRecorder, _ work: () async throws -> Result) async throws -> (Result, Int) {
        _ = try await work()
        var result: Result?
        let exchanges = try await ScopedReadFunctionTests.exchanges(recorder) { result = try await work() }
        return (result!, exchanges)
    }

    /// Two new tenants and a recorded handle: where every test here starts.
    static func recorded(_ body: (Database, LogRecorder, TwoTenants) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let recorder = LogRecorder()
        try await withRecordedDatabase(handle, recorder) { try await body($0, recorder, fixture) }
    }

    static let logger = TestDatabase.logger

    @Test func savedViewsAndSharedLinksTakeOneExchangeEachAndStayTheirTenants() async throws {
        try await Self.recorded { database, recorder, fixture in
            let (a, b) = (fixture.a.tenant.id.testScope, fixture.b.tenant.id.testScope)
            let views = database.savedViews
            var number = 0
            let (saved, save) = try await Self.measured(recorder) {
                number += 1
                return try await views.save(in: a, name: "view \(number)", days: 14, course: nil, logger: Self.logger)
            }
            #expect(save == 1 && saved.name == "view 2")
            await #expect(throws: TenantScopeError.conflict("a view named 'view 2' already exists")) {
                _ = try await views.save(in: a, name: "view 2", days: 7, course: nil, logger: Self.logger)
            }
            let (listed, list) = try await Self.measured(recorder) { try await views.views(in: a, logger: Self.logger) }
            // The fixture gave each tenant a view of its own too.
            let mine = listed.filter { $0.name.hasPrefix("view ") }
            #expect(list == 1 && mine.map(\.name) == ["view 1", "view 2"] && mine.allSatisfy { $0.days == 14 })
            #expect(try await views.views(in: b, logger: Self.logger).allSatisfy { !$0.name.hasPrefix("view ") && !listed.contains($0) })

            let (link, share) = try await Self.measured(recorder) {
                try await views.share(in: a, view: saved.id, lifetime: .seconds(3600), logger: Self.logger)
            }
            #expect(share == 1)
            let shared = try #require(link)
            #expect(try await views.share(in: b, view: saved.id, lifetime: .seconds(3600), logger: Self.logger) == nil,
                    "another tenant's view cannot be shared")
            let (links, linkList) = try await Self.measured(recorder) { try await views.links(in: a, logger: Self.logger) }
            let linksOfView = links.filter { $0.viewName == "view 2" }
            #expect(linkList == 1 && linksOfView.count == 2 && linksOfView.allSatisfy { !$0.revoked } && linksOfView.contains { $0.id == shared.link })
            #expect(try await views.links(in: b, logger: Self.logger).allSatisfy { link in !links.contains { $0.id == link.id } })

            // A link's tenant is looked up in the private index (one exchange), then its view read in that tenant's scope.
            let (resolved, resolve) = try await Self.measured(recorder) { try await views.resolve(token: shared.token, logger: Self.logger) }
            #expect(resolve == 2)
            #expect(resolved?.scope.tenant == fixture.a.tenant.id && resolved?.view == saved)

            #expect(try await views.revoke(in: b, link: shared.link, logger: Self.logger) == false, "another tenant's link cannot be revoked")
            var revokes: [Bool] = []
            let revoke = try await ScopedReadFunctionTests.exchanges(recorder) {
                revokes.append(try await views.revoke(in: a, link: shared.link, logger: Self.logger))
            }
            revokes.append(try await views.revoke(in: a, link: shared.link, logger: Self.logger))
            #expect(revoke == 1 && revokes == [true, false])
            #expect(try await views.resolve(token: shared.token, logger: Self.logger) == nil)
        }
    }

    @Test func customReportsTakeOneExchangeEachAndStayTheirTenants() async throws {
        try await Self.recorded { database, recorder, fixture in
            let (a, b) = (fixture.a.tenant.id.testScope, fixture.b.tenant.id.testScope)
            let reports = CustomReportStore(database: database)
            let sql = "SELECT count(*) AS n FROM statements"
            // A first report through every step makes the functions on the connection.
            let warm = try await reports.saveDraft(in: a, name: "warm", title: "Warm", sql: sql, logger: Self.logger)
            #expect(try await reports.markPreviewed(in: a, name: "warm", sha256: warm.sqlSHA256, logger: Self.logger))
            #expect(try await reports.approve(in: a, name: "warm", logger: Self.logger))
            let (draft, save) = try await Self.measured(recorder) {
                try await reports.saveDraft(in: a, name: "counted", title: "Counted", sql: sql, logger: Self.logger)
            }
            #expect(save == 1 && draft.state == .draft && draft.sqlSHA256 == SQLGuard.sha256(sql))
            // Each step is measured once. A second preview of the same text stands (concurrent previews of one draft
            // must not find each other's mark a change); another tenant's approval changes nothing and says so.
            var steps: [Bool] = []
            let preview = try await ScopedReadFunctionTests.exchanges(recorder) {
                steps.append(try await reports.markPreviewed(in: a, name: "counted", sha256: draft.sqlSHA256, logger: Self.logger))
            }
            steps.append(try await reports.markPreviewed(in: a, name: "counted", sha256: draft.sqlSHA256, logger: Self.logger))
            #expect(try await reports.approve(in: b, name: "counted", logger: Self.logger) == false, "another tenant's report")
            let approve = try await ScopedReadFunctionTests.exchanges(recorder) {
                steps.append(try await reports.approve(in: a, name: "counted", logger: Self.logger))
            }
            #expect(preview == 1 && approve == 1 && steps == [true, true, true])
            // A preview of a text the report no longer has is a change.
            #expect(try await reports.markPreviewed(in: a, name: "counted", sha256: SQLGuard.sha256("SELECT 2"), logger: Self.logger) == false)
            #expect(try await reports.setDashboardPanel(in: b, name: "counted", shown: true, logger: Self.logger) == false)
            let (pinned, pin) = try await Self.measured(recorder) {
                try await reports.setDashboardPanel(in: a, name: "counted", shown: true, logger: Self.logger)
            }
            #expect(pin == 1 && pinned)
            let (panels, read) = try await Self.measured(recorder) { try await reports.dashboardPanels(in: a, logger: Self.logger) }
            #expect(read == 1 && panels.map(\.name) == ["counted"] && panels.first?.state == .approved && panels.first?.approvedBy == a.actor)
            let (all, list) = try await Self.measured(recorder) { try await reports.reports(in: a, logger: Self.logger) }
            #expect(list == 1 && ["counted", "warm"].allSatisfy { name in all.contains { $0.name == name } })
            #expect(try await reports.reports(in: b, logger: Self.logger).allSatisfy { $0.name != "counted" && $0.name != "warm" })
        }
    }

    @Test func theExportJobAPITakesOneExchangePerOperationAndStaysTheTenants() async throws {
        try await Self.recorded { database, recorder, fixture in
            let (a, b) = (fixture.a.tenant.id.testScope, fixture.b.tenant.id.testScope)
            let jobs = database.exportJobs
            let request = ExportRequest(source: .report(name: "active_learners", parameters: ["days": "7"]), format: .csv, compressed: true)
            let requester = ExportJobStore.Requester(name: "exporter", kind: "tenant_user", role: .analyst, attributes: ["region": "eu"])
            let (created, create) = try await Self.measured(recorder) {
                try await jobs.create(request, by: requester, in: a, logger: Self.logger)
            }
            let job = try #require(created)
            #expect(create == 1 && job.tenant == fixture.a.tenant.id && job.state == .queued && job.compressed && job.format == .csv)
            #expect(job.source == .report(name: "active_learners", parameters: ["days": "7"]) && job.requestedBy == "exporter")
            #expect(job.requestedKind == "tenant_user" && job.scheduleID == nil && job.attempts == 0 && job.finishedAt == nil)
            let (listed, list) = try await Self.measured(recorder) {
                try await jobs.list(in: a, visibleAs: .requestedBy("exporter"), limit: 1, logger: Self.logger)
            }
            #expect(list == 1 && listed.map(\.id) == [job.id])
            #expect(try await jobs.list(in: a, visibleAs: .requestedBy("someone else"), logger: Self.logger).isEmpty)
            #expect(try await jobs.list(in: b, logger: Self.logger).allSatisfy { $0.id != job.id && $0.tenant == fixture.b.tenant.id })
            let (found, read) = try await Self.measured(recorder) { try await jobs.job(job.id, in: a, logger: Self.logger) }
            #expect(read == 1 && found == job)
            #expect(try await jobs.job(job.id, in: b, logger: Self.logger) == nil)
            #expect(try await jobs.revoke(job.id, in: b, logger: Self.logger) == nil, "another tenant's job cannot be revoked")
            // The worker's claim (a transaction) reads the requester's role and row attributes from the same columns: the
            // job then runs as an analyst limited to region "eu", not as a viewer with no row filter.
            let claim = try #require(try await jobs.claim(in: ScopePolicy.maintenance(of: fixture.a.tenant.id, job: "export"), worker: "w1",
                                                          lease: .seconds(60), maximumAttempts: 3, perTenantLimit: 5, logger: Self.logger))
            #expect(claim.role == .analyst && claim.attributes == ["region": "eu"] && claim.attempt == 1 && claim.job.state == .running)
            let (revoked, revoke) = try await Self.measured(recorder) { try await jobs.revoke(job.id, in: a, logger: Self.logger) }
            #expect(revoke == 1 && revoked?.state == .revoked && revoked?.id == job.id && revoked?.finishedAt != nil)
        }
    }

    @Test func exportSchedulesTakeOneExchangePerOperationAndStayTheTenants() async throws {
        try await Self.recorded { database, recorder, fixture in
            let (a, b) = (fixture.a.tenant.id.testScope, fixture.b.tenant.id.testScope)
            let schedules = database.exportSchedules
            let request = ExportRequest(source: .report(name: "active_learners", parameters: ["days": "7"]), format: .ndjson, compressed: true)
            let requester = ExportJobStore.Requester(name: "scheduler", kind: "tenant_user", role: .admin)
            let (created, create) = try await Self.measured(recorder) {
                try await schedules.create(request, cadence: .weekly, hour: 6, weekday: 1, by: requester, in: a, logger: Self.logger)
            }
            #expect(create == 1 && created.report == "active_learners" && created.parameters == ["days": "7"] && created.hour == 6)
            #expect(created.cadence == .weekly && created.weekday == 1 && created.createdBy == "scheduler" && created.lastSlot == nil)
            #expect(created.format == .ndjson && created.compressed)
            let (listed, list) = try await Self.measured(recorder) { try await schedules.list(in: a, logger: Self.logger) }
            #expect(list == 1 && listed.filter { $0.createdBy == "scheduler" }.count == 2 && listed.contains(created))
            #expect(try await schedules.list(in: b, logger: Self.logger).allSatisfy { schedule in !listed.contains { $0.id == schedule.id } })
            #expect(try await schedules.delete(created.id, in: b, logger: Self.logger) == false, "another tenant's schedule cannot be deleted")
            var deletes: [Bool] = []
            let delete = try await ScopedReadFunctionTests.exchanges(recorder) {
                deletes.append(try await schedules.delete(created.id, in: a, logger: Self.logger))
            }
            deletes.append(try await schedules.delete(created.id, in: a, logger: Self.logger))
            #expect(delete == 1 && deletes == [true, false])
        }
    }

    static func attachment(_ text: String) -> AttachmentContent {
        let bytes = Array(text.utf8)
        return AttachmentContent(sha2: Hex.encode(Array(SHA256.hash(data: bytes))), contentType: "text/plain", bytes: bytes)
    }

    /// A statement whose attachment is `content`.
    static func attached(_ content: AttachmentContent, id: UUID = UUID()) -> String {
        #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:ann@attach.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/experienced"},"object":{"id":"https://attach.example/lesson/1"},"attachments":[{"usageType":"http://adlnet.gov/expapi/attachments/signature","display":{"en-US":"note"},"contentType":"text/plain","length":\#(content.bytes.count),"sha2":"\#(content.sha2)"}]}"#
    }

    @Test func aMultipartBatchIsOneCallAllOrNothingAndItsAttachmentsAreReadInOne() async throws {
        try await Self.recorded { database, recorder, fixture in
            let (a, b) = (fixture.a.tenant.id.testScope, fixture.b.tenant.id.testScope)
            let statements = database.statements
            var number = 0
            let (outcome, store) = try await Self.measured(recorder) {
                number += 1
                let content = Self.attachment("note \(number)")
                return try await statements.store(try VoidingRaceTests.batch([Self.attached(content), Self.attached(content)]),
                                                  attachments: [content, content], in: a, logger: Self.logger)
            }
            #expect(store == 1 && outcome.stored == 2)
            let hashes = [Self.attachment("note 2").sha2, Self.attachment("note 1").sha2, Self.attachment("never sent").sha2]
            let (contents, read) = try await Self.measured(recorder) {
                try await statements.attachments.contents(sha2s: hashes, in: a, logger: Self.logger)
            }
            #expect(read == 1 && contents == [Self.attachment("note 2"), Self.attachment("note 1")], "in the order asked; unknown left out")
            #expect(try await statements.attachments.contents(sha2s: hashes, in: b, logger: Self.logger).isEmpty)

            try await Self.aRefusedMultipartBatchStoresNothing(statements, in: a)
        }
    }

    /// A batch refused whole (its second statement re-sends a stored id with a different statement) stores neither its
    /// new statement nor its attachment.
    static func aRefusedMultipartBatchStoresNothing(_ statements: StatementStore, in scope: TenantScope) async throws {
        let (stored, fresh) = (UUID(), UUID())
        _ = try await statements.store(try VoidingRaceTests.batch([VoidingRaceTests.experienced("first", id: stored)]), in: scope, logger: logger)
        let refused = attachment("refused \(fresh)")
        let batch = try VoidingRaceTests.batch([attached(refused, id: fresh), attached(refused, id: stored)])
        await #expect(throws: StatementIngest.conflict(at: 1, in: batch)) {
            _ = try await statements.store(batch, attachments: [refused], in: scope, logger: logger)
        }
        #expect(try await statements.attachments.contents(sha2s: [refused.sha2], in: scope, logger: logger).isEmpty)
        #expect(try await statements.statement(id: fresh, voided: false, in: scope, logger: logger) == nil,
                "the batch's new statement was not stored either")
        #expect(try await statements.statement(id: stored, voided: false, in: scope, logger: logger) != nil)
    }

    @Test func withSessionFunctionsOffAMultipartBatchIsATransactionAllOrNothingAllTheSame() async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let statements = StatementIngestFunctionTests.statements(handle, functions: false)
        let content = Self.attachment("through a transaction")
        let outcome = try await statements.store(try VoidingRaceTests.batch([Self.attached(content)]), attachments: [content],
                                                 in: fixture.a.tenant.id.testScope, logger: Self.logger)
        #expect(outcome.stored == 1)
        #expect(try await statements.attachments.contents(sha2s: [content.sha2], in: fixture.a.tenant.id.testScope, logger: Self.logger) == [content])
        #expect(try await statements.attachments.contents(sha2s: [content.sha2], in: fixture.b.tenant.id.testScope, logger: Self.logger).isEmpty)
        try await Self.aRefusedMultipartBatchStoresNothing(statements, in: fixture.a.tenant.id.testScope)
    }
}
