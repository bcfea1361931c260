import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Synchronization
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Export jobs through the API: created, run by the worker in the job's tenant scope, downloaded through a
/// signed, expiring, re-checked link; invisible to every other tenant; schedules queue one job per slot.
///
/// Serialized: each test opens an application with its own pools, and eight at once would take a large
/// share of the test cluster's connections from the suites running beside them.
@Suite(.serialized, .database) struct ExportHTTPTests {
    /// A clock tests move forward (link expiry).
    final class TestClock: Sendable {
        private let offset = Mutex<TimeInterval>(0)
        func advance(by seconds: TimeInterval) { offset.withLock { $0 += seconds } }
        var now: Date { Date().addingTimeInterval(offset.withLock { $0 }) }
    }

    struct Setup: Sendable {
        let client: any TestClientProtocol
        let fixture: LRSFixture
        let worker: ExportWorker
        /// The file store's root (when the test runs with the default store).
        let store: FileExportStore
        let clock: TestClock

        /// Runs the worker until it finds no job of the fixture's tenants.
        func drain() async throws {
            let tenants: Set<TenantID> = [fixture.a.tenant.id, fixture.b.tenant.id]
            do {
                while try await worker.step(housekeeping: true, among: tenants) {}
            } catch {
                Issue.record("the export worker failed: \(String(reflecting: error))")
                throw error
            }
        }

        /// Stores `statements` statements in each of A and B whose object is that tenant's own canary IRI.
        func storeCanaries(statements: Int) async throws -> (a: String, b: String) {
            let canaryA = "https://example.com/a-\(UUID().uuidString.lowercased())"
            let canaryB = "https://example.com/b-\(UUID().uuidString.lowercased())"
            for (member, object) in [(fixture.a, canaryA), (fixture.b, canaryB)] {
                _ = try await send(.post, "/xAPI/statements", member.headers,
                                   XAPIJSON.array((0..<statements).map { _ in XAPIJSON.statement(object: object) }), expect: .ok)
            }
            return (canaryA, canaryB)
        }

        func headers(_ member: LRSFixture.Member, role: TenantUser.Role = .admin, subject: String = "exporter") async throws -> HTTPFields {
            var headers = HTTPFields()
            headers[.authorization] = "Bearer " + (try await TestTokens.tenant(member.tenant.id, role: role, subject: subject))
            headers[.contentType] = "application/json"
            return headers
        }

        func send(_ method: HTTPRequest.Method, _ uri: String, _ headers: HTTPFields = [:], _ body: String? = nil,
                  expect status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation) async throws -> (body: String, headers: HTTPFields, bytes: [UInt8]) {
            try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
                let text = String(buffer: response.body)
                #expect(response.status == status, "\(method) \(uri): \(text)", sourceLocation: sourceLocation)
                return (text, response.headers, Array(response.body.readableBytesView))
            }
        }
    }

    func withExports(store given: (any ExportObjectStore)? = nil, settings: ExportSettings = ExportSettings(),
                     _ body: @Sendable (Setup) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let root = URL(fileURLWithPath: handle.root).appendingPathComponent("exports-\(UUID().uuidString.prefix(8))")
        let clock = TestClock()
        let files = try FileExportStore(root: root)
        let store: any ExportObjectStore = given ?? files
        let exports = ExportConfiguration(store: store, partialDirectory: root.appendingPathComponent(".partial"), settings: settings,
                                          runsWorker: false, now: { clock.now })
        try await LRSFixture.with(exports: exports) { client, fixture in
            let database = fixture.handle.database
            let worker = ExportWorker(database: database,
                                      reader: ExportReader(database: database, reports: ReportRunner(catalog: try StandardReports.catalog(), database: database),
                                                           customReports: GuardedSQLService(database: database)),
                                      store: store, settings: settings, partialDirectory: exports.partialDirectory, logger: TestDatabase.logger)
            try FileManager.default.createDirectory(at: exports.partialDirectory, withIntermediateDirectories: true)
            try await body(Setup(client: client, fixture: fixture, worker: worker, store: files, clock: clock))
        }
    }

    static func field(_ body: String, _ name: String) -> String? {
        XAPIJSON.object(body)[name]?.stringValue
    }

    @Test func anApprovedCustomReportIsExportedInItsTenantsScopeAsApproved() async throws {
        try await withExports { setup in
            let a = setup.fixture.a, b = setup.fixture.b
            let (canaryA, canaryB) = try await setup.storeCanaries(statements: 1)
            let admin = try await setup.headers(a)
            let viewer = try await setup.headers(a, role: .viewer, subject: "viewer-a")
            let report = #"{"name": "objects", "title": "Objects", "sql": "SELECT DISTINCT object_id FROM statements ORDER BY 1"}"#
            _ = try await setup.send(.post, "/api/v1/custom-reports", admin, report, expect: .created)
            // Not approved yet: nothing to export, nothing queued.
            _ = try await setup.send(.post, "/api/v1/exports", viewer, #"{"custom_report": "objects", "format": "csv"}"#, expect: .notFound)
            _ = try await setup.send(.post, "/api/v1/exports", viewer, #"{"custom_report": "Bad Name"}"#, expect: .badRequest)
            _ = try await setup.send(.post, "/api/v1/custom-reports/objects/preview", admin, expect: .ok)
            _ = try await setup.send(.post, "/api/v1/custom-reports/objects/approve", admin, expect: .ok)
            // Tenant B has no report of that name.
            _ = try await setup.send(.post, "/api/v1/exports", try await setup.headers(b), #"{"custom_report": "objects"}"#, expect: .notFound)

            // A platform admin acting for the tenant lists custom reports but never runs one, an export included.
            var platform = HTTPFields()
            platform[.authorization] = "Bearer " + (try await TestTokens.platform())
            platform[.contentType] = "application/json"
            _ = try await setup.send(.post, "/api/v1/platform/tenants/\(a.tenant.slug)/exports", platform, #"{"custom_report": "objects"}"#,
                                     expect: .forbidden)

            let created = try await setup.send(.post, "/api/v1/exports", viewer, #"{"custom_report": "objects", "format": "csv"}"#, expect: .accepted)
            let id = try #require(Self.field(created.body, "id"))
            #expect(Self.field(created.body, "source") == "custom_report" && Self.field(created.body, "report") == "objects", "\(created.body)")
            try await setup.drain()
            let status = try await setup.send(.get, "/api/v1/exports/\(id)", viewer, expect: .ok)
            #expect(Self.field(status.body, "state") == "done", "\(status.body)")
            let file = try await setup.send(.get, try #require(Self.field(status.body, "download_url")), expect: .ok)
            #expect(file.body.hasPrefix("object_id\r\n") && file.body.contains(canaryA) && !file.body.contains(canaryB), "\(file.body)")

            // Requested, then edited before it ran: the job fails rather than export text nobody approved.
            let queued = try await setup.send(.post, "/api/v1/exports", viewer, #"{"custom_report": "objects", "format": "json"}"#, expect: .accepted)
            let queuedID = try #require(Self.field(queued.body, "id"))
            _ = try await setup.send(.post, "/api/v1/custom-reports", admin,
                                     #"{"name": "objects", "title": "Objects", "sql": "SELECT verb_id FROM statements"}"#, expect: .created)
            try await setup.drain()
            let failed = try await setup.send(.get, "/api/v1/exports/\(queuedID)", viewer, expect: .ok)
            #expect(Self.field(failed.body, "state") == "failed" && (Self.field(failed.body, "error") ?? "").contains("changed"), "\(failed.body)")

            let audit = try await setup.fixture.handle.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "export_completed" && $0.entry.report == "custom:objects" && $0.entry.parameters["job"] == id })
            #expect(audit.contains { $0.entry.action == "export_created" && $0.entry.report == "custom:objects" && $0.entry.outcome == "forbidden" })
        }
    }

    @Test func aTenantAdminExportsAReportAndItsStatementsAndDownloadsThemThroughASignedLink() async throws {
        try await withExports { setup in
            let a = setup.fixture.a, b = setup.fixture.b
            let (canaryA, canaryB) = try await setup.storeCanaries(statements: 3)
            let admin = try await setup.headers(a)
            let created = try await setup.send(.post, "/api/v1/exports", admin, #"{"statements": {}, "format": "ndjson", "gzip": true}"#,
                                               expect: .accepted)
            let id = try #require(Self.field(created.body, "id"))
            #expect(created.headers[.location] == "/api/v1/exports/\(id)")
            #expect(Self.field(created.body, "state") == "queued")
            let report = try await setup.send(.post, "/api/v1/exports", admin, #"{"report": "active_learners", "parameters": {"days": 30}, "format": "csv"}"#,
                                              expect: .accepted)
            let reportID = try #require(Self.field(report.body, "id"))
            try await setup.drain()

            let status = try await setup.send(.get, "/api/v1/exports/\(id)", admin, expect: .ok)
            #expect(Self.field(status.body, "state") == "done", "\(status.body)")
            #expect(XAPIJSON.object(status.body)["rows"] == .number("3"))
            let link = try #require(Self.field(status.body, "download_url"))
            #expect(link.hasPrefix("/exports/download/") && link.contains(a.tenant.id.description))
            let file = try await setup.send(.get, link, expect: .ok)
            #expect(file.headers[.contentType] == "application/gzip")
            let lines = try await Self.gunzip(file.bytes).split(separator: "\n")
            #expect(lines.count == 3 && lines.allSatisfy { $0.contains(canaryA) } && !lines.contains { $0.contains(canaryB) })
            // The object lives under the tenant's own directory.
            #expect(FileManager.default.fileExists(atPath: setup.store.root.appendingPathComponent("\(a.tenant.id)/\(id).ndjson.gz").path))

            let csvStatus = try await setup.send(.get, "/api/v1/exports/\(reportID)", admin, expect: .ok)
            let csv = try await setup.send(.get, try #require(Self.field(csvStatus.body, "download_url")), expect: .ok)
            #expect(csv.body.hasPrefix("day,") || csv.body.contains("\r\n"), "\(csv.body)")
            #expect(csv.headers[.contentDisposition]?.contains("export-\(reportID).csv") == true)

            // Listed for A; B neither lists, reads, revokes nor downloads it.
            #expect(try await setup.send(.get, "/api/v1/exports", admin, expect: .ok).body.contains(id))
            let adminB = try await setup.headers(b)
            #expect(!(try await setup.send(.get, "/api/v1/exports", adminB, expect: .ok).body.contains(id)))
            _ = try await setup.send(.get, "/api/v1/exports/\(id)", adminB, expect: .notFound)
            _ = try await setup.send(.delete, "/api/v1/exports/\(id)", adminB, expect: .notFound)
            _ = try await setup.send(.get, "/api/v1/exports/not-a-uuid", adminB, expect: .notFound)
            // A link whose tenant part names B (or whose job part was changed) is not a link at all.
            let forged = link.replacingOccurrences(of: a.tenant.id.description, with: b.tenant.id.description)
            _ = try await setup.send(.get, forged, expect: .notFound)
            let signer = setup.fixture.handle.database.exportLinks
            // Genuinely signed for B but naming A's job: B's scope does not hold the job.
            let crossSigned = "/exports/download/" + signer.token(job: UUID(uuidString: id)!, tenant: b.tenant.id, expires: Date().addingTimeInterval(600))
            _ = try await setup.send(.get, crossSigned, expect: .notFound)

            let audit = try await setup.fixture.handle.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
            for action in ["export_created", "export_completed", "export_downloaded"] {
                #expect(audit.contains { $0.entry.action == action && $0.entry.scopeTenant == a.tenant.id && $0.entry.parameters["job"] == id }, "\(action)")
            }
        }
    }

    @Test func linksExpireAfterADayAreReSignedOnEveryReadAndDieWithARevocation() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            _ = try await setup.send(.post, "/xAPI/statements", a.headers, XAPIJSON.statement(), expect: .ok)
            let admin = try await setup.headers(a)
            let id = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"statements": {}}"#, expect: .accepted).body, "id"))
            try await setup.drain()
            let first = try #require(Self.field(try await setup.send(.get, "/api/v1/exports/\(id)", admin, expect: .ok).body, "download_url"))
            _ = try await setup.send(.get, first, expect: .ok)

            // A day and a bit later the first link is gone (410), and a fresh read gives a working one.
            setup.clock.advance(by: 25 * 3600)
            let expired = try await setup.send(.get, first, expect: .gone)
            #expect(expired.body.contains("expired"))
            let second = try #require(Self.field(try await setup.send(.get, "/api/v1/exports/\(id)", admin, expect: .ok).body, "download_url"))
            #expect(second != first)
            _ = try await setup.send(.get, second, expect: .ok)

            // Revoked: the link answers 410, the file is gone, the job says so.
            let revoked = try await setup.send(.delete, "/api/v1/exports/\(id)", admin, expect: .ok)
            #expect(Self.field(revoked.body, "state") == "revoked")
            _ = try await setup.send(.get, second, expect: .gone)
            #expect(!FileManager.default.fileExists(atPath: setup.store.root.appendingPathComponent("\(a.tenant.id)/\(id).ndjson").path))
        }
    }

    @Test func badRequestsAreClearAndQueueNothing() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            let admin = try await setup.headers(a)
            let viewer = try await setup.headers(a, role: .viewer, subject: "viewer")
            let cases: [(HTTPFields, String, HTTPResponse.Status, String)] = [
                (admin, #"{"report": "no_such_report"}"#, .badRequest, "no_such_report"),
                (admin, #"{"report": "active_learners", "parameters": {"colour": "red"}}"#, .badRequest, "colour"),
                (admin, #"{"report": "active_learners", "format": "xml"}"#, .badRequest, "format"),
                (admin, #"{"statements": {}, "format": "csv"}"#, .badRequest, "csv"),
                (admin, #"{"statements": {"since": "yesterday"}}"#, .badRequest, "since"),
                (admin, #"{"statements": {}, "report": "active_learners"}"#, .badRequest, "exactly one"),
                (admin, #"{"statements": {}, "tenant": "other"}"#, .badRequest, "tenant"),
                (admin, #"{"learner": {"name": "no identifier"}}"#, .badRequest, "exactly one"),
                // Learners checked as a statement's actor is: an openid is an IRI of at most 2048 bytes (the longest
                // identifier, an account's, keeps the key within a statement actor's 2600 bytes).
                (admin, #"{"learner": {"openid": "http://example.com/\#(String(repeating: "a", count: 2100))"}}"#, .badRequest, "2048 bytes"),
                (admin, #"{"learner": {"objectType": "Group", "member": [{"mbox": "mailto:ann@example.com"}]}}"#, .badRequest, "identifier"),
                (admin, #"{"learner": {"mbox": "ann@example.com"}}"#, .badRequest, "learner.mbox"),
                // Parameters within the report's limits (code points), and what is stored within the tables' 4000 bytes.
                (admin, #"{"report": "completion_rate_by_course", "parameters": {"course": "\#(String(repeating: "👨‍👩‍👧", count: 300))"}}"#,
                 .badRequest, "course"),
                (admin, #"{"report": "active_learners", "parameters": {"days": "\#(String(repeating: "0", count: 4000))30"}}"#, .badRequest, "4000"),
                (admin, "not json", .badRequest, "JSON"),
                // A member named twice, at the top or inside, is refused rather than read as its last value.
                (admin, #"{"report": "active_learners", "report": "no_such_report"}"#, .badRequest, "'report' is given twice"),
                (admin, #"{"report": "active_learners", "parameters": {"days": "7", "days": "30"}}"#, .badRequest, "'days' is given twice"),
                (admin, #"{"report": "active_learners", "parameters": {"days": "\#(String(repeating: "9", count: 17_000))"}}"#, .badRequest, "16384"),
                (viewer, #"{"learner": {"mbox": "mailto:ann@example.com"}}"#, .forbidden, "admins"),
                (viewer, #"{"statements": {}}"#, .forbidden, "admins"),
            ]
            for (headers, body, status, mentions) in cases {
                let response = try await setup.send(.post, "/api/v1/exports", headers, body, expect: status)
                #expect(response.body.contains(mentions), "\(body.prefix(80)): \(response.body)")
            }
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.export_jobs") == ["0"])
            // A learner whose key is longer than a document's (1000 bytes) but one a statement may name is exported: an
            // erasure finds such a learner, so an export must too (migration 55).
            let longLearner = #"{"learner": {"openid": "http://example.com/\#(String(repeating: "a", count: 1500))"}}"#
            _ = try await setup.send(.post, "/api/v1/exports", admin, longLearner, expect: .accepted)
            // A viewer may export a report, and sees only their own jobs.
            let mine = try await setup.send(.post, "/api/v1/exports", viewer, #"{"report": "active_learners"}"#, expect: .accepted)
            _ = try await setup.send(.post, "/api/v1/exports", admin, #"{"report": "active_learners"}"#, expect: .accepted)
            let listed = XAPIJSON.object(try await setup.send(.get, "/api/v1/exports", viewer, expect: .ok).body)["exports"]?.arrayValue ?? []
            #expect(listed.count == 1 && listed.first?["id"]?.stringValue == Self.field(mine.body, "id"))

            // The list is filtered before it is cut to its hundred: a hundred newer jobs of others hide none of the viewer's.
            let request = ExportRequest(source: .report(name: "active_learners", parameters: [:]), format: .csv, compressed: false)
            for _ in 0..<100 {
                _ = try await setup.fixture.handle.database.exportJobs.create(
                    request, by: .init(name: "exporter", kind: "tenant_user", role: .admin), in: a.tenant.id.testScope, logger: TestDatabase.logger)
            }
            let stillMine = XAPIJSON.object(try await setup.send(.get, "/api/v1/exports", viewer, expect: .ok).body)["exports"]?.arrayValue ?? []
            #expect(stillMine.count == 1 && stillMine.first?["id"]?.stringValue == Self.field(mine.body, "id"))
            let adminsList = XAPIJSON.object(try await setup.send(.get, "/api/v1/exports", admin, expect: .ok).body)["exports"]?.arrayValue ?? []
            #expect(adminsList.count == 100, "an admin's list is the newest hundred")
            // The lists and a job's status take no filters: one asked for is a 400, not the whole list.
            for uri in ["/api/v1/exports?state=done", "/api/v1/exports/\(Self.field(mine.body, "id") ?? "")?verbose=1",
                        "/api/v1/export-schedules?report=active_learners"] {
                let refused = try await setup.send(.get, uri, admin, expect: .badRequest)
                #expect(refused.body.contains("takes no query parameters"), "\(uri): \(refused.body)")
            }
        }
    }

    /// The parameters a job or schedule stores are measured as the tables' CHECK measures them
    /// (`octet_length(parameters::text)`, jsonb's own spacing and escapes): at 4000 bytes they are kept,
    /// one more is a 400 that stores nothing, never a constraint violation.
    @Test func storedParametersAreBoundedAsTheTablesBoundThem() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            let admin = try await setup.headers(a)
            // Escapes PostgreSQL prints in two bytes or six, and UTF-8 of one to four bytes per code point.
            let course = "\u{1}\u{8}\t\"\\é👨‍👩‍👧/" + String(repeating: "x", count: 400)
            func body(padding: Int, schedule: Bool) -> String {
                var object: JSONObject = ["report": "time_to_complete", "format": "csv",
                                          "parameters": ["course": .string(course), "bucket_days": .string(String(repeating: "0", count: padding) + "7")]]
                if schedule { object["cadence"] = "daily"; object["hour"] = .number("3") }
                return JSONValue.object(object).jsonText
            }
            let parameters = { (padding: Int) in ["course": course, "bucket_days": String(repeating: "0", count: padding) + "7"] }
            let fits = ExportRequest.maximumParametersBytes - ExportRequest.storedBytes(of: parameters(0))
            for (uri, schedule, accepted) in [("/api/v1/exports", false, HTTPResponse.Status.accepted), ("/api/v1/export-schedules", true, .created)] {
                let refused = try await setup.send(.post, uri, admin, body(padding: fits + 1, schedule: schedule), expect: .badRequest)
                #expect(refused.body.contains("4001 bytes"), "\(refused.body)")
                _ = try await setup.send(.post, uri, admin, body(padding: fits, schedule: schedule), expect: accepted)
            }
            #expect(try await setup.fixture.rows(a, "SELECT octet_length(parameters::text)::text FROM app.export_jobs") == ["4000"])
            #expect(try await setup.fixture.rows(a, "SELECT octet_length(parameters::text)::text FROM app.export_schedules") == ["4000"])
        }
    }

    @Test func aScheduleQueuesExactlyOneJobPerSlotHoweverManyWorkersLook() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            let admin = try await setup.headers(a)
            _ = try await setup.send(.post, "/api/v1/export-schedules", admin, #"{"report": "active_learners", "cadence": "daily"}"#, expect: .badRequest)
            let twice = try await setup.send(.post, "/api/v1/export-schedules", admin,
                                             #"{"report": "active_learners", "cadence": "daily", "hour": 3, "hour": 4}"#, expect: .badRequest)
            #expect(twice.body.contains("'hour' is given twice"), "\(twice.body)")
            _ = try await setup.send(.post, "/api/v1/export-schedules", try await setup.headers(a, role: .viewer),
                                     #"{"report": "active_learners", "cadence": "daily", "hour": 3}"#, expect: .forbidden)
            let created = try await setup.send(.post, "/api/v1/export-schedules", admin,
                                               #"{"report": "active_learners", "format": "csv", "cadence": "daily", "hour": 3}"#, expect: .created)
            let schedule = try #require(Self.field(created.body, "id"))
            // Made two days old, so today's 03:00 slot has come since it was saved.
            _ = try await setup.fixture.handle.database.sessions.run(a.tenant.id.testScope, access: .readWrite, logger: TestDatabase.logger) { connection in
                try await connection.query("UPDATE app.export_schedules SET created_at = now() - interval '2 days' WHERE id = \(UUID(uuidString: schedule)!)")
            }
            // Eight workers look at once: one job for the slot.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await setup.worker.tidy(a.tenant.id, schedules: true, expiring: false) }
                }
                try await group.waitForAll()
            }
            let jobs = try await setup.fixture.rows(a, "SELECT requested_kind || ' ' || state FROM app.export_jobs WHERE schedule_id = '\(schedule)'")
            #expect(jobs == ["schedule queued"])
            try await setup.drain()
            #expect(try await setup.fixture.rows(a, "SELECT state FROM app.export_jobs WHERE schedule_id = '\(schedule)'") == ["done"])
            try await setup.worker.tidy(a.tenant.id, schedules: true, expiring: false)
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.export_jobs WHERE schedule_id = '\(schedule)'") == ["1"])
            let audit = try await setup.fixture.handle.admin.auditTrail.tail(limit: 100, logger: TestDatabase.logger)
            #expect(audit.filter { $0.entry.action == "export_scheduled" && $0.entry.parameters["schedule"] == schedule }.count == 1)
            // B does not see A's schedule and cannot delete it.
            let adminB = try await setup.headers(setup.fixture.b)
            #expect(!(try await setup.send(.get, "/api/v1/export-schedules", adminB, expect: .ok).body.contains(schedule)))
            _ = try await setup.send(.delete, "/api/v1/export-schedules/\(schedule)", adminB, expect: .notFound)
            _ = try await setup.send(.delete, "/api/v1/export-schedules/\(schedule)", admin, expect: .noContent)
        }
    }

    @Test func deletingATenantRemovesItsJobsAndFiles() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            _ = try await setup.send(.post, "/xAPI/statements", a.headers, XAPIJSON.statement(), expect: .ok)
            let admin = try await setup.headers(a)
            let id = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"statements": {}}"#, expect: .accepted).body, "id"))
            try await setup.drain()
            let link = try #require(Self.field(try await setup.send(.get, "/api/v1/exports/\(id)", admin, expect: .ok).body, "download_url"))
            var platform = HTTPFields()
            platform[.authorization] = "Bearer " + (try await TestTokens.platform("deleter"))
            let slug = a.tenant.slug.rawValue
            _ = try await setup.send(.delete, "/api/v1/platform/tenants/\(slug)?confirm=\(slug)", platform, expect: .ok)
            _ = try await setup.send(.get, link, expect: .notFound)
            #expect(!FileManager.default.fileExists(atPath: setup.store.root.appendingPathComponent(a.tenant.id.description).path))
        }
    }

    @Test func aPlatformAdminExportsForOneTenantAudited() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            var platform = HTTPFields()
            platform[.authorization] = "Bearer " + (try await TestTokens.platform("ops-anna"))
            platform[.contentType] = "application/json"
            let created = try await setup.send(.post, "/api/v1/platform/tenants/\(a.tenant.slug.rawValue)/exports", platform,
                                               #"{"report": "active_learners"}"#, expect: .accepted)
            let id = try #require(Self.field(created.body, "id"))
            #expect(Self.field(created.body, "requested_by") == "ops-anna")
            // The tenant's admin sees it among the tenant's exports; a tenant token cannot use the platform route.
            #expect(try await setup.send(.get, "/api/v1/exports", try await setup.headers(a), expect: .ok).body.contains(id))
            // The platform sees the jobs it created for the tenant, not the tenant's own (nor who asked for them).
            let own = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", try await setup.headers(a, subject: "ann@tenant.example"),
                                                                    #"{"report": "active_learners"}"#, expect: .accepted).body, "id"))
            var platformRead = platform
            platformRead[.contentType] = nil
            let listed = try await setup.send(.get, "/api/v1/platform/tenants/\(a.tenant.slug.rawValue)/exports", platformRead, expect: .ok).body
            #expect(listed.contains(id) && !listed.contains(own) && !listed.contains("ann@tenant.example"))
            _ = try await setup.send(.get, "/api/v1/platform/tenants/\(a.tenant.slug.rawValue)/exports/\(own)", platformRead, expect: .notFound)
            _ = try await setup.send(.get, "/api/v1/platform/tenants/\(a.tenant.slug.rawValue)/exports/\(id)", platformRead, expect: .ok)
            _ = try await setup.send(.get, "/api/v1/platform/tenants/\(a.tenant.slug.rawValue)/exports", try await setup.headers(a), expect: .forbidden)
            let audit = try await setup.fixture.handle.admin.auditTrail.tail(limit: 100, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "export_created" && $0.entry.actor == "ops-anna" && $0.entry.actorKind == "platform_admin"
                && $0.entry.scopeTenant == a.tenant.id })
            // The platform's reads are on record as well (a status read mints a download link); the tenant's own are not.
            let reads = audit.filter { $0.entry.scopeTenant == a.tenant.id && ["exports_listed", "export_status_read"].contains($0.entry.action) }
            #expect(reads.contains { $0.entry.action == "exports_listed" && $0.entry.actor == "ops-anna" && $0.entry.rowCount == 1 })
            #expect(reads.contains { $0.entry.action == "export_status_read" && $0.entry.parameters["job"] == id && $0.entry.outcome == "ok" })
            #expect(reads.contains { $0.entry.action == "export_status_read" && $0.entry.parameters["job"] == nil && $0.entry.outcome == "not_found" })
            #expect(reads.allSatisfy { $0.entry.actorKind == "platform_admin" }, "a tenant's reads of its own exports are not audited")
            #expect(reads.count == 3)

            // The platform sees aggregates, never learners: nothing whose rows name learners is exported for it, whatever
            // the role its request is checked in (raw statements, one learner's data, a learner-level report), and a
            // learner export cannot tell it whether an address is a learner there. Each refusal is audited.
            let jobsBefore = try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.export_jobs")
            for body in [#"{"statements": {}}"#, #"{"learner": {"mbox": "mailto:ann@example.com"}}"#,
                         #"{"report": "course_enrollments", "parameters": {"course": "Canary course"}}"#] {
                _ = try await setup.send(.post, "/api/v1/platform/tenants/\(a.tenant.slug.rawValue)/exports", platform, body, expect: .forbidden)
            }
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.export_jobs") == jobsBefore, "nothing was queued")
            // Refused by the service itself too, should a request reach it checked in an admin's role.
            let service = ExportService(database: setup.fixture.handle.database, store: setup.store, catalog: try StandardReports.catalog())
            for source in [ExportSource.statements(since: nil, until: nil), .learner(actorKey: "mbox:mailto:ann@example.com"),
                           .report(name: "course_enrollments", parameters: ["course": "Canary course"])] {
                var actor = ExportService.Actor.platformOperator("ops-anna")
                actor.requester.role = .admin
                await #expect(throws: TenantScopeError.self) {
                    _ = try await service.create(ExportRequest(source: source, format: source.formats[0], compressed: false), by: actor,
                                                 in: a.tenant.id.testScope, logger: TestDatabase.logger)
                }
            }
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.export_jobs") == jobsBefore, "nothing was queued")
            // A request that is not valid is refused as such, and its row says so (probe 38: every refusal read `invalid`).
            _ = try await setup.send(.post, "/api/v1/platform/tenants/\(a.tenant.slug.rawValue)/exports", platform,
                                     #"{"report": "active_learners", "parameters": {"days": "99999"}}"#, expect: .badRequest)
            let refusals = try await setup.fixture.handle.admin.auditTrail.tail(limit: 100, logger: TestDatabase.logger)
                .filter { $0.entry.action == "export_created" && $0.entry.actor == "ops-anna" && $0.entry.outcome != "queued"
                    && $0.entry.scopeTenant == a.tenant.id }
            #expect(refusals.count == 7, "every refusal is an audit row: \(refusals.map(\.entry.outcome))")
            // Each names what was asked for, and whether it was not allowed or not valid.
            let forbidden = refusals.filter { $0.entry.outcome == "forbidden" }
            #expect(forbidden.count == 6 && forbidden.allSatisfy { $0.entry.report != nil && $0.entry.parameters["source"] != nil })
            #expect(Set(forbidden.compactMap(\.entry.report)) == ["statements", "learner", "course_enrollments"], "\(forbidden.map(\.entry))")
            #expect(refusals.contains { $0.entry.outcome == "invalid" && $0.entry.report == "active_learners" && $0.entry.parameters["source"] == "report" })
        }
    }

    /// Probe 38: a job belongs to its requester's subject; the same subject back in a lesser role (a viewer's token) no
    /// longer lists, reads, links or revokes the admins-only files it asked for as an admin, and keeps the others.
    @Test func aSubjectWhoseRoleDroppedNoLongerReadsItsAdminOnlyExports() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            let admin = try await setup.headers(a, role: .admin, subject: "demoted@tenant.example")
            var viewer = try await setup.headers(a, role: .viewer, subject: "demoted@tenant.example")
            viewer[.contentType] = nil
            let raw = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"statements": {}}"#, expect: .accepted).body, "id"))
            let report = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"report": "active_learners"}"#,
                                                                      expect: .accepted).body, "id"))
            let listed = try await setup.send(.get, "/api/v1/exports", viewer, expect: .ok).body
            #expect(listed.contains(report) && !listed.contains(raw), "\(listed)")
            _ = try await setup.send(.get, "/api/v1/exports/\(raw)", viewer, expect: .notFound)
            _ = try await setup.send(.delete, "/api/v1/exports/\(raw)", viewer, expect: .notFound)
            _ = try await setup.send(.get, "/api/v1/exports/\(report)", viewer, expect: .ok)
            // As an admin again, the job is there and was not revoked.
            let again = try await setup.send(.get, "/api/v1/exports/\(raw)", admin, expect: .ok).body
            #expect(again.contains(raw) && !again.contains("revoked"), "\(again)")
        }
    }

    @Test func aLearnerGetsTheirDataAndIsThenErasedWithTheExportsThatHeldThem() async throws {
        try await withExports { setup in
            let a = setup.fixture.a
            _ = try await setup.send(.post, "/xAPI/statements", a.headers,
                                     XAPIJSON.array([XAPIJSON.statement(actor: "mailto:ann@example.com"), XAPIJSON.statement(actor: "mailto:ann@example.com"),
                                                     XAPIJSON.statement(actor: "mailto:bob@example.com")]), expect: .ok)
            var lrs = a.headers
            lrs[.contentType] = "application/json"
            let agent = #"{"mbox":"mailto:ann@example.com"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            _ = try await setup.send(.put, "/xAPI/activities/state?activityId=https%3A%2F%2Fexample.com%2Factivity%2F1&agent=\(agent)&stateId=bookmark",
                                     lrs, #"{"page": 7}"#, expect: .noContent)
            // Derived facts (the learner row, enrollments) as the roll-up service would have them.
            try await RollupService(database: setup.fixture.handle.database, logger: TestDatabase.logger).catchUp(a.tenant.id)
            let admin = try await setup.headers(a)
            let access = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin,
                                                                       #"{"learner": {"mbox": "mailto:ann@example.com"}}"#, expect: .accepted).body, "id"))
            let everything = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"statements": {}}"#, expect: .accepted).body, "id"))
            // A custom report's SQL may select any learner's rows: its finished export goes with an erasure too.
            let report = #"{"name": "actors", "title": "Actors", "sql": "SELECT learner_id, verb_id FROM statements ORDER BY 1, 2"}"#
            _ = try await setup.send(.post, "/api/v1/custom-reports", admin, report, expect: .created)
            _ = try await setup.send(.post, "/api/v1/custom-reports/actors/preview", admin, expect: .ok)
            _ = try await setup.send(.post, "/api/v1/custom-reports/actors/approve", admin, expect: .ok)
            let custom = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"custom_report": "actors"}"#,
                                                                       expect: .accepted).body, "id"))
            try await setup.drain()
            let accessStatus = try await setup.send(.get, "/api/v1/exports/\(access)", admin, expect: .ok)
            #expect(!accessStatus.body.contains("ann@example.com"), "the status does not echo the learner")
            let records = try await setup.send(.get, try #require(Self.field(accessStatus.body, "download_url")), expect: .ok).body
                .split(separator: "\n").map { XAPIJSON.object(String($0)) }
            #expect(records.filter { $0["record"] == "statement" }.count == 2)
            #expect(records.contains { $0["record"] == "document" } && records.contains { $0["record"] == "learner" })
            #expect(!records.contains { $0.description.contains("bob@example.com") })
            let everythingLink = try #require(Self.field(try await setup.send(.get, "/api/v1/exports/\(everything)", admin, expect: .ok).body, "download_url"))
            let customLink = try #require(Self.field(try await setup.send(.get, "/api/v1/exports/\(custom)", admin, expect: .ok).body, "download_url"))

            // Erasure: admins only, a clear 400 for a body without one identifier, then everything of Ann goes.
            let body = #"{"learner": {"mbox": "mailto:ann@example.com"}}"#
            _ = try await setup.send(.post, "/api/v1/learners/erasure", try await setup.headers(a, role: .viewer), body, expect: .forbidden)
            _ = try await setup.send(.post, "/api/v1/learners/erasure", admin, #"{"learner": {"name": "Ann"}}"#, expect: .badRequest)
            // A malformed identifier is refused as a statement's actor would be, not an erasure that matched nobody.
            let unprefixed = try await setup.send(.post, "/api/v1/learners/erasure", admin, #"{"learner": {"mbox": "ann@example.com"}}"#,
                                                  expect: .badRequest)
            #expect(unprefixed.body.contains("learner.mbox"), "the error names the property: \(unprefixed.body)")
            // Which learner is erased must not depend on which of two identifiers a parser keeps: a member named twice is refused.
            for twice in [#"{"learner": {"mbox": "mailto:bob@example.com", "mbox": "mailto:ann@example.com"}}"#, body.dropLast() + #", "learner": {}}"#] {
                let refused = try await setup.send(.post, "/api/v1/learners/erasure", admin, String(twice), expect: .badRequest)
                #expect(refused.body.contains("is given twice"), "\(refused.body)")
            }
            let erased = XAPIJSON.object(try await setup.send(.post, "/api/v1/learners/erasure", admin, body, expect: .ok).body)
            #expect(erased["statements"] == .number("2") && erased["documents"] == .number("1") && erased["exports_removed"] == .number("3"))
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.statements WHERE actor_key = 'mbox:mailto:ann@example.com'") == ["0"])
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.statements") == ["1"])
            // The exports that held her are gone: her access export entirely, the statement export revoked.
            _ = try await setup.send(.get, "/api/v1/exports/\(access)", admin, expect: .notFound)
            _ = try await setup.send(.get, everythingLink, expect: .gone)
            _ = try await setup.send(.get, customLink, expect: .gone)
            #expect(!FileManager.default.fileExists(atPath: setup.store.root.appendingPathComponent("\(a.tenant.id)/\(everything).ndjson").path))
            let audit = try await setup.fixture.handle.admin.auditTrail.tail(limit: 100, logger: TestDatabase.logger)
            let row = try #require(audit.first { $0.entry.action == "learner_erased" && $0.entry.scopeTenant == a.tenant.id })
            #expect(row.entry.parameters["request"] == erased["request_id"]?.stringValue)
            #expect(!"\(row.entry)".contains("ann@example.com"), "the audit row names the request, not the learner")
        }
    }

    /// A file an erasure could not remove (the store failed just then) stays on the tenant's removal queue, written in
    /// the erasure's transaction, and the export worker removes it once the store works again (migration 50). Removed
    /// after the commit with nothing queued, such a file stayed for good: a retried erasure finds no job to revoke.
    @Test func aFileAnErasureCouldNotRemoveIsRemovedByTheWorkerLater() async throws {
        var settings = ExportSettings()
        settings.removalRetryAge = .zero
        try await withExports(settings: settings) { setup in
            let a = setup.fixture.a
            _ = try await setup.send(.post, "/xAPI/statements", a.headers, XAPIJSON.array([XAPIJSON.statement(actor: "mailto:ann@example.com")]),
                                     expect: .ok)
            let admin = try await setup.headers(a)
            let id = try #require(Self.field(try await setup.send(.post, "/api/v1/exports", admin, #"{"statements": {}}"#, expect: .accepted).body, "id"))
            try await setup.drain()
            let file = setup.store.root.appendingPathComponent("\(a.tenant.id)/\(id).ndjson")
            let content = try Data(contentsOf: file)
            // The store cannot remove it now: a directory stands where the file was (unlink refuses a directory).
            try FileManager.default.removeItem(at: file)
            try FileManager.default.createDirectory(at: file, withIntermediateDirectories: false)
            try Data("busy".utf8).write(to: file.appendingPathComponent("busy"))
            let erased = XAPIJSON.object(try await setup.send(.post, "/api/v1/learners/erasure", admin,
                                                              #"{"learner": {"mbox": "mailto:ann@example.com"}}"#, expect: .ok).body)
            #expect(erased["exports_removed"] == .number("1"))
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.export_removals") == ["1"], "the file stays queued")
            // The store works again, with the file in place: the worker's next visit removes it and takes it off the queue.
            try FileManager.default.removeItem(at: file)
            try content.write(to: file)
            try await setup.drain()
            #expect(!FileManager.default.fileExists(atPath: file.path), "the worker removed the erased learner's export")
            #expect(try await setup.fixture.rows(a, "SELECT count(*)::text FROM app.export_removals") == ["0"])
        }
    }

    /// Decompresses with the system's gzip, as a user's would.
    static func gunzip(_ bytes: [UInt8]) async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("gunzip-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("export.gz")
        try Data(bytes).write(to: file)
        let gzip = try await Shell.run("/usr/bin/env", ["gzip", "-d", file.path])
        guard gzip.status == 0 else { throw TestSetupError("gzip could not decompress the export: \(gzip.error)") }
        return try String(contentsOf: directory.appendingPathComponent("export"), encoding: .utf8)
    }
}
