import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The statements resource as xAPI 1.0.3 asks an LRS to behave, over HTTP against real PostgreSQL.
/// Each test is named after the requirement it checks.
@Suite(.database) struct XAPIConformanceTests {
    typealias Client = any TestClientProtocol

    @discardableResult
    static func send(
        _ client: Client, _ method: HTTPRequest.Method, _ uri: String, _ headers: HTTPFields, _ body: String? = nil,
        expect status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (body: String, headers: HTTPFields) {
        try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) }) { response in
            let text = String(buffer: response.body)
            #expect(response.status == status, "\(method) \(uri): \(text)", sourceLocation: sourceLocation)
            return (text, response.headers)
        }
    }

    static func ids(_ body: String) -> [String] {
        (try? JSONParser.parse(body.utf8))?.arrayValue?.compactMap(\.stringValue) ?? []
    }

    static func statements(_ body: String) -> [JSONObject] {
        XAPIJSON.object(body)["statements"]?.arrayValue?.compactMap(\.objectValue) ?? []
    }

    static func agentQuery(_ mbox: String) -> String {
        #"{"mbox":"\#(mbox)"}"#.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    // MARK: - Headers and /about

    @Test func aboutNeedsNoCredentialsAndListsTheVersion() async throws {
        try await LRSFixture.with { client, _ in
            let (body, headers) = try await Self.send(client, .get, "/xAPI/about", [:], expect: .ok)
            #expect(XAPIJSON.object(body)["version"]?.arrayValue?.contains("1.0.3") == true)
            #expect(headers[XAPIRoutes.versionHeader] == "1.0.3")
        }
    }

    @Test func theVersionHeaderIsRequiredAndSentOnEveryResponse() async throws {
        try await LRSFixture.with { client, fixture in
            var headers = fixture.a.headers
            headers[XAPIRoutes.versionHeader] = nil
            let missing = try await Self.send(client, .get, "/xAPI/statements", headers, expect: .badRequest)
            #expect(missing.body.contains("X-Experience-API-Version"))
            #expect(missing.headers[XAPIRoutes.versionHeader] == "1.0.3")
            // An unsupported version, and spellings that are not versions: an empty part, digits of another script.
            for version in ["0.95", "1.0.", "1..0", ".1.0", "1.\u{0660}.3", "1.0.3.1"] {
                headers[XAPIRoutes.versionHeader] = version
                try await Self.send(client, .get, "/xAPI/statements", headers, expect: .badRequest)
            }
            for version in ["1.0", "1.0.0", "1.0.9"] {
                headers[XAPIRoutes.versionHeader] = version
                try await Self.send(client, .get, "/xAPI/statements", headers, expect: .ok)
            }
            let ok = try await Self.send(client, .get, "/xAPI/statements", fixture.a.headers, expect: .ok)
            #expect(ok.headers[XAPIRoutes.versionHeader] == "1.0.3")
            #expect(ok.headers[XAPIRoutes.consistentThroughHeader].flatMap(ISO8601Timestamp.parse) != nil)
        }
    }

    // MARK: - Writing

    @Test func postReturnsIdsAndTheLRSFillsIdStoredAuthorityVersionAndTimestamp() async throws {
        try await LRSFixture.with { client, fixture in
            let posted = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers,
                                             XAPIJSON.array([XAPIJSON.statement(), XAPIJSON.statement(object: "https://example.com/activity/2")]),
                                             expect: .ok)
            let ids = Self.ids(posted.body)
            #expect(ids.count == 2)
            let fetched = try await Self.send(client, .get, "/xAPI/statements?statementId=\(ids[1])", fixture.a.headers, expect: .ok)
            let statement = XAPIJSON.object(fetched.body)
            #expect(statement["id"]?.stringValue == ids[1])
            #expect(statement["object"]?["id"]?.stringValue == "https://example.com/activity/2")
            #expect(statement["stored"]?.stringValue.flatMap(ISO8601Timestamp.parse) != nil)
            #expect(statement["timestamp"]?.stringValue == statement["stored"]?.stringValue)
            #expect(statement["version"]?.stringValue == "1.0.0")
            #expect(statement["authority"]?["account"]?["name"]?.stringValue == fixture.a.credential.key)
            #expect(fetched.headers[.lastModified]?.hasSuffix("GMT") == true)
        }
    }

    @Test func putStoresUnderTheGivenIdAndAnswers204() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            try await Self.send(client, .put, "/xAPI/statements?statementId=\(id)", fixture.a.headers, XAPIJSON.statement(), expect: .noContent)
            try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)", fixture.a.headers, expect: .ok)
            try await Self.send(client, .put, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(), expect: .badRequest)
            let mismatch = try await Self.send(client, .put, "/xAPI/statements?statementId=\(UUID())", fixture.a.headers,
                                               XAPIJSON.statement(id: UUID()), expect: .badRequest)
            #expect(mismatch.body.contains("does not match"))
        }
    }

    @Test func oneInvalidStatementRefusesTheWholeBatchAndNamesIt() async throws {
        try await LRSFixture.with { client, fixture in
            let actor = "mailto:batch-\(UUID().uuidString.prefix(8))@example.com"
            let batch = XAPIJSON.array([
                XAPIJSON.statement(actor: actor),
                XAPIJSON.statement(actor: actor, extra: #","result":{"score":{"scaled":1.5}}"#),
                XAPIJSON.statement(actor: actor),
            ])
            let refused = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, batch, expect: .badRequest)
            #expect(refused.body.contains("statements[1].result.score.scaled"))
            let after = try await Self.send(client, .get, "/xAPI/statements?agent=\(Self.agentQuery(actor))", fixture.a.headers, expect: .ok)
            #expect(Self.statements(after.body).isEmpty)
        }
    }

    /// The validation rules of the specification, each with the message that names the property.
    @Test(arguments: [
        (#"{"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#, "statement.actor is required"),
        (#"{"actor":{"mbox":"mailto:a@b.example","openid":"http://id.example/a"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#,
         "exactly one of mbox"),
        (#"{"actor":{"mbox":"a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#, "mailto: IRI"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"not an iri"},"object":{"id":"http://x.example/a"}}"#, "statement.verb.id must be an IRI"),
        (#"{"id":"1234","actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#,
         "statement.id must be a UUID"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},"timestamp":"2026-01-01T10:00:00"}"#,
         "statement.timestamp must be an ISO 8601"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v","display":{"not a tag":"x"}},"object":{"id":"http://x.example/a"}}"#,
         "language tags"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},"result":{"score":{"raw":11,"max":10}}}"#,
         "score.raw must not exceed max"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},"result":{"duration":"ten minutes"}}"#,
         "ISO 8601 duration"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},"colour":"red"}"#,
         "statement.colour is not a property"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"objectType":"Agent","mbox":"mailto:c@d.example"},"context":{"platform":"LMS"}}"#,
         "only allowed when the object is an Activity"),
        (#"{"actor":{"mbox":"mailto:a@b.example","name":null},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#,
         "must not be null"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"id":"http://x.example/a"}}"#,
         "must be a StatementRef"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},"context":{"registration":"nope"}}"#,
         "context.registration must be a UUID"),
        (#"{"actor":{"objectType":"Group","member":[{"objectType":"Group","mbox":"mailto:g@b.example"}]},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#,
         "member[0] must be an Agent"),
        ("[]", "empty"),
        ("{not json", "not valid JSON"),
        // JSON that jsonb cannot store, or that no client could read back as a number: a 400, not a failed insert.
        (#"{"actor":{"mbox":"mailto:a@b.example","name":"A\u0000B"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#,
         "\\u0000 cannot be stored"),
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},"result":{"score":{"raw":1e400}}}"#,
         "out of range"),
        // Finite as a Double (it is 0), but with more decimal places than PostgreSQL's numeric keeps: this
        // one used to pass the parser and fail the INSERT with a 500.
        (#"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"},"result":{"extensions":{"http://x.example/e":1e-16384}}}"#,
         "more digits after the decimal point than PostgreSQL's numeric can store"),
    ])
    func invalidStatementsAreRefusedWithTheProblemNamed(_ statement: String, _ message: String) async throws {
        try await LRSFixture.with { client, fixture in
            let refused = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, statement, expect: .badRequest)
            #expect(refused.body.contains(message), "\(refused.body)")
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.statements") == ["0"])
        }
    }

    @Test func validStatementsOfEveryObjectTypeAreAccepted() async throws {
        try await LRSFixture.with { client, fixture in
            let statements = [
                #"{"actor":{"account":{"homePage":"https://lms.example","name":"u1"}},"verb":{"id":"http://x.example/v"},"object":{"objectType":"Agent","mbox_sha1sum":"a9993e364706816aba3e25717850c26c9cd0d89d"}}"#,
                #"{"actor":{"objectType":"Group","member":[{"mbox":"mailto:m1@b.example"},{"openid":"http://id.example/m2"}]},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#,
                #"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"objectType":"SubStatement","actor":{"mbox":"mailto:c@b.example"},"verb":{"id":"http://x.example/w"},"object":{"id":"http://x.example/b"}}}"#,
                #"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"objectType":"StatementRef","id":"6690e6c9-3ef0-4ed3-8b37-7f3964730bee"}}"#,
                #"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a","definition":{"interactionType":"choice","correctResponsesPattern":["a"],"choices":[{"id":"a","description":{"en-US":"A"}}]}},"result":{"score":{"scaled":-0.5,"raw":2,"min":0,"max":4},"success":false,"completion":true,"duration":"PT1M30.5S","response":"a"},"context":{"registration":"ec531277-b57b-4c15-8d91-d292c5b2b8f7","language":"en-US","contextActivities":{"parent":{"id":"http://x.example/p"},"grouping":[{"id":"http://x.example/g"}]}},"timestamp":"2026-11-20T10:00:00.123456+01:00"}"#,
            ]
            let posted = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.array(statements), expect: .ok)
            #expect(Self.ids(posted.body).count == statements.count)
        }
    }

    @Test func theSameIdWithTheSameContentIsAcceptedWithoutChange() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            let statement = XAPIJSON.statement(id: id)
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, statement, expect: .ok)
            let first = try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)", fixture.a.headers, expect: .ok)
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, statement, expect: .ok)
            try await Self.send(client, .put, "/xAPI/statements?statementId=\(id)", fixture.a.headers, statement, expect: .noContent)
            let second = try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)", fixture.a.headers, expect: .ok)
            #expect(first.body == second.body)
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.statements") == ["1"])
        }
    }

    @Test func theSameIdWithDifferentContentIs409AndNothingOfTheBatchIsStored() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: id), expect: .ok)
            let batch = XAPIJSON.array([XAPIJSON.statement(object: "https://example.com/new"), XAPIJSON.statement(id: id, object: "https://example.com/other")])
            let conflict = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, batch, expect: .conflict)
            #expect(conflict.body.contains("statements[1]"))
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.statements") == ["1"])
            try await Self.send(client, .put, "/xAPI/statements?statementId=\(id)", fixture.a.headers,
                                XAPIJSON.statement(object: "https://example.com/other"), expect: .conflict)
        }
    }

    @Test func aBatchHoldingOneIdTwiceIsRefused() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            let refused = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers,
                                              XAPIJSON.array([XAPIJSON.statement(id: id), XAPIJSON.statement(id: id)]), expect: .badRequest)
            #expect(refused.body.contains("statements[1].id repeats"))
        }
    }

    @Test func voidingHidesTheTargetAndVoidingAVoidingStatementIsRefused() async throws {
        try await LRSFixture.with { client, fixture in
            let target = UUID()
            let voiding = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: target), expect: .ok)
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.voiding(target, id: voiding), expect: .ok)
            try await Self.send(client, .get, "/xAPI/statements?statementId=\(target)", fixture.a.headers, expect: .notFound)
            let voided = try await Self.send(client, .get, "/xAPI/statements?voidedStatementId=\(target)", fixture.a.headers, expect: .ok)
            #expect(XAPIJSON.object(voided.body)["id"]?.stringValue == target.uuidString.lowercased())
            try await Self.send(client, .get, "/xAPI/statements?voidedStatementId=\(voiding)", fixture.a.headers, expect: .notFound)
            let listed = try await Self.send(client, .get, "/xAPI/statements", fixture.a.headers, expect: .ok)
            #expect(Self.statements(listed.body).map { $0["id"]?.stringValue } == [voiding.uuidString.lowercased()])

            let refused = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.voiding(voiding), expect: .badRequest)
            #expect(refused.body.contains("cannot be voided"))
            let sameBatch = XAPIJSON.array([XAPIJSON.voiding(UUID(), id: target), XAPIJSON.voiding(target)])
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, sameBatch, expect: .badRequest)
        }
    }

    /// Filters also select statements whose object is a StatementRef to a statement they match, voided
    /// or not (XAPI-00162); a reference into another tenant matches nothing there.
    @Test func filtersSelectStatementsThatReferenceAMatchingStatement() async throws {
        try await LRSFixture.with { client, fixture in
            let verb = "https://example.com/verbs/" + UUID().uuidString.lowercased()
            let target = UUID(), voiding = UUID(), reference = UUID()
            func ref(_ id: UUID, to target: UUID) -> String {
                #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:ref@example.com"},"verb":{"id":"https://example.com/verbs/mentioned"},"object":{"objectType":"StatementRef","id":"\#(target.uuidString.lowercased())"}}"#
            }
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: target, verb: verb), expect: .ok)
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.voiding(target, id: voiding), expect: .ok)
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, ref(reference, to: target), expect: .ok)
            let query = "/xAPI/statements?verb=" + verb.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
            let found = Self.statements(try await Self.send(client, .get, query, fixture.a.headers, expect: .ok).body).compactMap { $0["id"]?.stringValue }
            #expect(Set(found) == [voiding.uuidString.lowercased(), reference.uuidString.lowercased()], "\(found)")
            let one = Self.statements(try await Self.send(client, .get, query + "&limit=1", fixture.a.headers, expect: .ok).body)
            #expect(one.count == 1 && one.first?["id"]?.stringValue == reference.uuidString.lowercased())

            // Tenant B refers to A's statement: the reference is stored, but A's statement matches nothing in B.
            let foreign = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.b.headers, ref(foreign, to: target), expect: .ok)
            let inB = try await Self.send(client, .get, query, fixture.b.headers, expect: .ok).body
            #expect(Self.statements(inB).isEmpty, "\(inB)")
        }
    }

    /// xAPI 1.0.3's Alternate Request Syntax: a form POST stands for the request it names, with its
    /// headers taken from the form, and meets the same rules as that request (XAPI-00336).
    @Test func theAlternateRequestSyntaxStandsForTheRequestItNames() async throws {
        try await LRSFixture.with { client, fixture in
            func form(_ fields: [(String, String)]) -> String {
                fields.map { QueryParameters.encode($0.0) + "=" + QueryParameters.encode($0.1) }
                    .joined(separator: "&")
            }
            var formHeaders = HTTPFields()
            formHeaders[.contentType] = "application/x-www-form-urlencoded"
            let credentials: [(String, String)] = [("Authorization", fixture.a.headers[.authorization]!), ("X-Experience-API-Version", "1.0.3")]
            let id = UUID()
            try await Self.send(client, .post, "/xAPI/statements?method=PUT", formHeaders,
                                form(credentials + [("statementId", id.uuidString.lowercased()), ("content", XAPIJSON.statement())]), expect: .noContent)
            try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)", fixture.a.headers, expect: .ok)
            let page = try await Self.send(client, .post, "/xAPI/statements?method=GET", formHeaders,
                                           form(credentials + [("statementId", id.uuidString.lowercased())]), expect: .ok)
            #expect(XAPIJSON.object(page.body)["id"]?.stringValue == id.uuidString.lowercased())

            // The same rules as the request it stands for, and its own.
            try await Self.send(client, .post, "/xAPI/statements?method=GET", formHeaders, form([("X-Experience-API-Version", "1.0.3")]),
                                expect: .unauthorized)
            try await Self.send(client, .post, "/xAPI/statements?method=PUT", formHeaders,
                                form(credentials.prefix(1) + [("X-Experience-API-Version", "0.8"), ("statementId", UUID().uuidString), ("content", XAPIJSON.statement())]),
                                expect: .badRequest)
            try await Self.send(client, .post, "/xAPI/statements?method=GET", formHeaders, form(credentials + [("tenant", "other")]), expect: .badRequest)
            // A form body's bytes that are not UTF-8 are refused, not repaired into a statement nobody sent.
            let unrepaired = UUID().uuidString.lowercased()
            // The byte stands in the actor's name: repaired into U+FFFD, the content would be a valid statement.
            let content = QueryParameters.encode(XAPIJSON.statement()).components(separatedBy: "Ann")
            var raw = ByteBuffer(string: form(credentials + [("statementId", unrepaired)]) + "&content=" + content[0])
            raw.writeBytes([0xFF])
            raw.writeString(content[1])
            try await client.execute(uri: "/xAPI/statements?method=PUT", method: .post, headers: formHeaders, body: raw) { response in
                #expect(response.status == .badRequest, "\(String(buffer: response.body))")
            }
            try await Self.send(client, .get, "/xAPI/statements?statementId=\(unrepaired)", fixture.a.headers, expect: .notFound)
            try await Self.send(client, .post, "/xAPI/statements?method=PUT&statementId=\(UUID())", formHeaders,
                                form(credentials + [("content", XAPIJSON.statement())]), expect: .badRequest)
            try await Self.send(client, .put, "/xAPI/statements?method=POST", formHeaders, form(credentials + [("content", XAPIJSON.statement())]),
                                expect: .badRequest)
            try await Self.send(client, .post, "/xAPI/statements?method=PUT", fixture.a.headers, XAPIJSON.statement(), expect: .badRequest)
            // xAPI 2.0 removed the syntax.
            let refused = try await Self.send(client, .post, "/xAPI/statements?method=GET", formHeaders,
                                              form([credentials[0], ("X-Experience-API-Version", "2.0.0")]), expect: .badRequest)
            #expect(refused.body.contains("xAPI 2.0"))
        }
    }

    @Test func aStatementArrivingAfterItsVoidingStatementIsStoredVoided() async throws {
        try await LRSFixture.with { client, fixture in
            let target = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.voiding(target), expect: .ok)
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: target), expect: .ok)
            try await Self.send(client, .get, "/xAPI/statements?statementId=\(target)", fixture.a.headers, expect: .notFound)
            try await Self.send(client, .get, "/xAPI/statements?voidedStatementId=\(target)", fixture.a.headers, expect: .ok)
        }
    }

    @Test func theBodySizeLimitAnswers413WithAClearMessage() async throws {
        try await LRSFixture.with(maximumBodyBytes: 2048) { client, fixture in
            let big = XAPIJSON.array(Array(repeating: XAPIJSON.statement(), count: 20))
            let refused = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, big, expect: .contentTooLarge)
            #expect(refused.body.contains("exceeds the limit of 2048 bytes"))
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.statements") == ["0"])
        }
    }

    @Test func malformedMultipartIsRefusedClearly() async throws {
        try await LRSFixture.with { client, fixture in
            var headers = fixture.a.headers
            headers[.contentType] = "multipart/mixed; boundary=abc"
            let refused = try await Self.send(client, .post, "/xAPI/statements", headers, "--abc--", expect: .badRequest)
            #expect(refused.body.contains("multipart body holds no parts"))
            headers[.contentType] = "multipart/form-data; boundary=abc"
            try await Self.send(client, .post, "/xAPI/statements", headers, "--abc--", expect: .badRequest)
            // The media type is compared whole: one that merely begins like JSON's is not JSON. With parameters, JSON is.
            headers[.contentType] = "application/jsonx"
            let prefixed = try await Self.send(client, .post, "/xAPI/statements", headers, XAPIJSON.statement(), expect: .badRequest)
            #expect(prefixed.body.contains("statements must be sent as application"), "\(prefixed.body)")
            headers[.contentType] = "Application/JSON ; charset=utf-8"
            try await Self.send(client, .post, "/xAPI/statements", headers, XAPIJSON.statement(), expect: .ok)
        }
    }

    // MARK: - Reading

    @Test func queriesFilterByAgentVerbActivityRegistrationAndTime() async throws {
        try await LRSFixture.with { client, fixture in
            let registration = UUID()
            let course = #","context":{"registration":"\#(registration.uuidString.lowercased())","contextActivities":{"parent":[{"id":"https://example.com/course/1"}]},"instructor":{"mbox":"mailto:teacher@example.com"}}"#
            let first = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.array([
                XAPIJSON.statement(actor: "mailto:ann@example.com", verb: "http://adlnet.gov/expapi/verbs/attempted", object: "https://example.com/lesson/1", extra: course),
                XAPIJSON.statement(actor: "mailto:bob@example.com", verb: "http://adlnet.gov/expapi/verbs/attempted", object: "https://example.com/lesson/2"),
            ]), expect: .ok)
            let firstIDs = Self.ids(first.body)
            let since = try await fixture.rows(fixture.a, #"SELECT to_char(max(stored) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') FROM app.statements"#)[0]
            try await Task.sleep(for: .milliseconds(5))
            let second = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers,
                                             XAPIJSON.statement(actor: "mailto:ann@example.com", verb: "http://adlnet.gov/expapi/verbs/completed", object: "https://example.com/lesson/1"),
                                             expect: .ok)
            let secondID = Self.ids(second.body)[0]

            func query(_ parameters: String) async throws -> [String] {
                let result = try await Self.send(client, .get, "/xAPI/statements?\(parameters)", fixture.a.headers, expect: .ok)
                return Self.statements(result.body).compactMap { $0["id"]?.stringValue }
            }
            #expect(try await query("agent=\(Self.agentQuery("mailto:ann@example.com"))") == [secondID, firstIDs[0]])
            #expect(try await query("agent=\(Self.agentQuery("mailto:ann@example.com"))&ascending=true") == [firstIDs[0], secondID])
            #expect(try await query("verb=http%3A%2F%2Fadlnet.gov%2Fexpapi%2Fverbs%2Fattempted&ascending=true") == firstIDs)
            #expect(try await query("activity=https%3A%2F%2Fexample.com%2Flesson%2F2") == [firstIDs[1]])
            #expect(try await query("activity=https%3A%2F%2Fexample.com%2Fcourse%2F1") == [])
            #expect(try await query("activity=https%3A%2F%2Fexample.com%2Fcourse%2F1&related_activities=true") == [firstIDs[0]])
            #expect(try await query("agent=\(Self.agentQuery("mailto:teacher@example.com"))") == [])
            #expect(try await query("agent=\(Self.agentQuery("mailto:teacher@example.com"))&related_agents=true") == [firstIDs[0]])
            #expect(try await query("registration=\(registration)") == [firstIDs[0]])
            #expect(try await query("since=\(since)") == [secondID])
            #expect(try await query("until=\(since)&ascending=true") == firstIDs)
            // Python's urlencode writes spaces as '+': the query must still parse.
            #expect(try await query("agent=%7B%22objectType%22%3A+%22Agent%22%2C+%22mbox%22%3A+%22mailto%3Abob%40example.com%22%7D") == [firstIDs[1]])

            for bad in ["limit=-1", "since=yesterday", "agent=%7B%7D", "verb=not%20an%20iri", "statementId=\(secondID)&verb=http%3A%2F%2Fx.example%2Fv",
                        "ascending=maybe", "format=pretty", "colour=red", "more=garbage"] {
                try await Self.send(client, .get, "/xAPI/statements?\(bad)", fixture.a.headers, expect: .badRequest)
            }
        }
    }

    @Test func pagingFollowsTheMoreLinkUntilItIsEmpty() async throws {
        try await LRSFixture.with { client, fixture in
            let posted = try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers,
                                             XAPIJSON.array((0..<7).map { XAPIJSON.statement(object: "https://example.com/page/\($0)") }), expect: .ok)
            var seen: [String] = []
            var next = "/xAPI/statements?limit=3&ascending=true"
            var pages = 0
            while !next.isEmpty {
                let page = try await Self.send(client, .get, next, fixture.a.headers, expect: .ok)
                seen += Self.statements(page.body).compactMap { $0["id"]?.stringValue }
                next = XAPIJSON.object(page.body)["more"]?.stringValue ?? ""
                pages += 1
                #expect(pages < 10)
                if pages >= 10 { break }
            }
            #expect(pages == 3)
            #expect(seen == Self.ids(posted.body))
        }
    }

    @Test func formatIdsAndCanonicalReduceTheStatement() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: id), expect: .ok)
            let ids = try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)&format=ids", fixture.a.headers, expect: .ok)
            let reduced = XAPIJSON.object(ids.body)
            #expect(reduced["actor"]?["mbox"]?.stringValue == "mailto:ann@example.com")
            #expect(reduced["actor"]?["name"] == nil)
            #expect(reduced["verb"]?["display"] == nil)
            #expect(reduced["object"]?["definition"] == nil)
            var german = fixture.a.headers
            german[.acceptLanguage] = "de, en;q=0.5"
            let canonical = try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)&format=canonical", german, expect: .ok)
            let name = XAPIJSON.object(canonical.body)["object"]?["definition"]?["name"]
            #expect(name == ["de": "Aktivität"])
        }
    }

    /// XAPI-00171: in `ids`, an Activity is its `id` alone (no `objectType`), also inside a SubStatement,
    /// and an identified Group its `objectType` and identifier.
    @Test func formatIDsReducesSubStatementActivitiesToTheirID() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            let statement = #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:ann@example.com","name":"Ann"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},"object":{"objectType":"SubStatement","actor":{"objectType":"Group","name":"G","mbox":"mailto:group@example.com"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},"object":{"objectType":"Activity","id":"https://example.com/sub","definition":{"name":{"en-US":"Sub"}}}}}"#
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, statement, expect: .ok)
            let ids = XAPIJSON.object(try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)&format=ids", fixture.a.headers, expect: .ok).body)
            #expect(ids["object"]?["object"] == ["id": "https://example.com/sub"])
            #expect(ids["object"]?["actor"] == ["objectType": "Group", "mbox": "mailto:group@example.com"])
        }
    }

    /// `ids` and `canonical` re-print the stored statement; its numbers must come back exactly as stored,
    /// as `exact` returns them. The stored value is what `jsonb` keeps: the decimal digits as sent, with
    /// exponent notation written out (`1e-7` is stored as `0.0000001`, `1E+2` as `100`).
    @Test func everyFormatReturnsNumbersExactlyAsStored() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            let actor = "mailto:numbers-\(UUID().uuidString.prefix(8))@example.com"
            let result = #","result":{"score":{"scaled":0.30000000000000004,"raw":1e-7},"extensions":{"https://x.example/big":123456789012345678901234567890,"https://x.example/one":1.0,"https://x.example/close":1.0000000000000001,"https://x.example/exp":1E+2,"https://x.example/list":[-0.0,2.50]}}"#
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: id, actor: actor, extra: result), expect: .ok)
            let expected: JSONValue = [
                "score": ["scaled": .number("0.30000000000000004"), "raw": .number("0.0000001")],
                "extensions": [
                    "https://x.example/big": .number("123456789012345678901234567890"),
                    "https://x.example/one": .number("1.0"),
                    "https://x.example/close": .number("1.0000000000000001"),
                    "https://x.example/exp": .number("100"),
                    "https://x.example/list": [.number("0.0"), .number("2.50")],
                ],
            ]
            for format in ["exact", "ids", "canonical"] {
                let single = try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)&format=\(format)", fixture.a.headers, expect: .ok)
                // `.number` compares the literal text, so equal means byte-identical numbers.
                #expect(try JSONParser.parse(single.body.utf8)["result"] == expected, "format=\(format): \(single.body)")
                let page = try await Self.send(client, .get, "/xAPI/statements?agent=\(Self.agentQuery(actor))&format=\(format)", fixture.a.headers, expect: .ok)
                #expect(try JSONParser.parse(page.body.utf8)["statements"]?.arrayValue?.first?["result"] == expected, "format=\(format): \(page.body)")
            }
        }
    }

    @Test func headAnswersLikeGetWithoutABody() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: id), expect: .ok)
            let head = try await Self.send(client, .head, "/xAPI/statements?statementId=\(id)", fixture.a.headers, expect: .ok)
            #expect(head.body.isEmpty)
            #expect(head.headers[.lastModified] != nil)
            try await Self.send(client, .head, "/xAPI/statements?statementId=\(UUID())", fixture.a.headers, expect: .notFound)
        }
    }

    // MARK: - Credentials and tenancy

    @Test func wrongRevokedOrMissingCredentialsAre401WithABasicChallenge() async throws {
        try await LRSFixture.with { client, fixture in
            var wrong = fixture.a.headers
            wrong[.authorization] = "Basic " + Data("\(fixture.a.credential.key):\(fixture.b.credential.secret)".utf8).base64EncodedString()
            let refused = try await Self.send(client, .get, "/xAPI/statements", wrong, expect: .unauthorized)
            #expect(refused.headers[.wwwAuthenticate]?.hasPrefix("Basic") == true)
            var none = fixture.a.headers
            none[.authorization] = nil
            try await Self.send(client, .get, "/xAPI/statements", none, expect: .unauthorized)

            #expect(try await fixture.handle.admin.lrsKeys.revoke(key: fixture.a.credential.key, logger: TestDatabase.logger) == fixture.a.tenant.id)
            // The server remembers an accepted credential for a second (decision 35): refused once that passed.
            try await Task.sleep(for: .milliseconds(1100))
            try await Self.send(client, .get, "/xAPI/statements", fixture.a.headers, expect: .unauthorized)
        }
    }

    @Test func tenantTokensReadAndOnlyAdminTokensWrite() async throws {
        try await LRSFixture.with { client, fixture in
            var viewer = fixture.a.headers
            viewer[.authorization] = "Bearer " + (try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer))
            try await Self.send(client, .get, "/xAPI/statements", viewer, expect: .ok)
            try await Self.send(client, .post, "/xAPI/statements", viewer, XAPIJSON.statement(), expect: .forbidden)
            var admin = fixture.a.headers
            admin[.authorization] = "Bearer " + (try await TestTokens.tenant(fixture.a.tenant.id, role: .admin))
            try await Self.send(client, .post, "/xAPI/statements", admin, XAPIJSON.statement(), expect: .ok)
            var platform = fixture.a.headers
            platform[.authorization] = "Bearer " + (try await TestTokens.platform())
            // A platform token is a verified credential of the other surface: an audited 403, as on report routes.
            try await Self.send(client, .get, "/xAPI/statements", platform, expect: .forbidden)
            let audit = try await fixture.handle.admin.auditTrail.tail(limit: 200, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "tenant_scope_refused" && $0.entry.parameters["route"] == "GET /xAPI/statements" })
        }
    }

    @Test func oneTenantsStatementsAreInvisibleToAnotherIncludingById() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            let secret = "mailto:secret-\(UUID().uuidString.prefix(8))@a.example"
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: id, actor: secret), expect: .ok)
            try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)", fixture.b.headers, expect: .notFound)
            let listed = try await Self.send(client, .get, "/xAPI/statements?agent=\(Self.agentQuery(secret))", fixture.b.headers, expect: .ok)
            #expect(Self.statements(listed.body).isEmpty)
            let all = try await Self.send(client, .get, "/xAPI/statements?limit=0", fixture.b.headers, expect: .ok)
            #expect(!all.body.contains(secret))
            // A tenant naming itself some other way is refused outright.
            try await Self.send(client, .get, "/xAPI/statements?tenant_id=\(fixture.a.tenant.id)", fixture.b.headers, expect: .badRequest)
        }
    }

    @Test func aTenantCannotVoidAnotherTenantsStatementNorLearnWhetherItExists() async throws {
        try await LRSFixture.with { client, fixture in
            let id = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.statement(id: id), expect: .ok)
            try await Self.send(client, .post, "/xAPI/statements", fixture.b.headers, XAPIJSON.voiding(id), expect: .ok)
            try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)", fixture.a.headers, expect: .ok)
            // The same id with other content in another tenant is that tenant's own statement: no 409 oracle.
            try await Self.send(client, .put, "/xAPI/statements?statementId=\(id)", fixture.b.headers,
                                XAPIJSON.statement(object: "https://b.example/thing"), expect: .noContent)
            let mine = try await Self.send(client, .get, "/xAPI/statements?statementId=\(id)", fixture.a.headers, expect: .ok)
            #expect(mine.body.contains("https://example.com/activity/1"))
        }
    }

    // MARK: - Derived facts

    @Test func learnersCoursesEnrollmentsAndRollupsFollowIngestAndVoiding() async throws {
        try await LRSFixture.with { client, fixture in
            let course = #"{"id":"https://example.com/course/safety","definition":{"type":"http://adlnet.gov/expapi/activities/course","name":{"en-US":"Safety"}}}"#
            func about(_ verb: String, timestamp: String, id: UUID = UUID()) -> String {
                #"{"id":"\#(id.uuidString.lowercased())","actor":{"mbox":"mailto:dora@example.com","name":"Dora"},"verb":{"id":"http://adlnet.gov/expapi/verbs/\#(verb)"},"object":\#(course),"timestamp":"\#(timestamp)","context":{"extensions":{"https://tenantscope.dev/xapi/extensions/cohort":"2026-spring"}}}"#
            }
            let completion = UUID()
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.array([
                about("registered", timestamp: "2026-03-01T09:00:00Z"),
                about("completed", timestamp: "2026-03-05T17:00:00Z", id: completion),
            ]), expect: .ok)
            let facts = """
                SELECT l.display_name || '|' || c.title || '|' || e.cohort || '|' || to_char(e.enrolled_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')
                       || '|' || coalesce(to_char(e.completed_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'), '-')
                FROM app.enrollments e JOIN app.learners l ON l.id = e.learner_id JOIN app.courses c ON c.id = e.course_id
                """
            // Ingest queues the actor in the batch's transaction; the roll-up service derives the queue.
            let queue = "SELECT k FROM app.learning_facts_queue q, unnest(coalesce(q.actor_keys, ARRAY[q.actor_key])) AS k WHERE k LIKE '%dora%'"
            #expect(try await fixture.rows(fixture.a, queue) == ["mbox:mailto:dora@example.com"])
            let rollups = RollupService(database: fixture.handle.database, logger: TestDatabase.logger)
            try await rollups.catchUp(fixture.a.tenant.id)
            #expect(try await fixture.rows(fixture.a, queue).isEmpty)
            #expect(try await fixture.rows(fixture.a, facts) == ["Dora|Safety|2026-spring|2026-03-01|2026-03-05"])
            #expect(try await fixture.rows(fixture.a, "SELECT day::text || ':' || statements FROM app.daily_learner_activity ORDER BY day")
                    == ["2026-03-01:1", "2026-03-05:1"])

            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, XAPIJSON.voiding(completion), expect: .ok)
            #expect(try await fixture.rows(fixture.a, queue) == ["mbox:mailto:dora@example.com"], "voiding queues the target's actor")
            try await rollups.catchUp(fixture.a.tenant.id)
            #expect(try await fixture.rows(fixture.a, facts) == ["Dora|Safety|2026-spring|2026-03-01|-"])
            #expect(try await fixture.rows(fixture.a, "SELECT day::text || ':' || statements FROM app.daily_learner_activity ORDER BY day")
                    == ["2026-03-01:1"])
            // The other tenant's derived tables stay empty.
            #expect(try await fixture.rows(fixture.b, "SELECT count(*)::text FROM app.learners") == ["0"])
        }
    }

    // MARK: - Product events

    @Test func productEventBatchesAreAllOrNothingIdempotentAndFeedTheRollups() async throws {
        try await LRSFixture.with { client, fixture in
            var headers = fixture.a.headers
            headers[XAPIRoutes.versionHeader] = nil
            let first = UUID(), second = UUID()
            let batch = #"{"events":[{"id":"\#(first)","feature":"reports.export","actor":"user-1","occurred_at":"2026-11-01T10:00:00Z"},{"id":"\#(second)","feature":"reports.export","actor":"user-2","occurred_at":"2026-11-01T11:00:00Z"}]}"#
            let stored = try await Self.send(client, .post, "/api/v1/events", headers, batch, expect: .ok)
            #expect(XAPIJSON.object(stored.body)["stored"]?.numberValue == 2)
            let again = try await Self.send(client, .post, "/api/v1/events", headers, batch, expect: .ok)
            #expect(XAPIJSON.object(again.body)["stored"]?.numberValue == 0)
            #expect(try await fixture.rows(fixture.a, "SELECT feature_key || ':' || events || ':' || actors FROM app.daily_feature_usage")
                    == ["reports.export:2:2"])

            let bad = #"[{"feature":"dashboards.view","actor":"u","occurred_at":"2026-11-02T10:00:00Z"},{"feature":"Bad Key","actor":"u","occurred_at":"2026-11-02T10:00:00Z"}]"#
            let refused = try await Self.send(client, .post, "/api/v1/events", headers, bad, expect: .badRequest)
            #expect(refused.body.contains("events[1].feature"))
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.feature_events") == ["2"])
            #expect(try await fixture.rows(fixture.b, "SELECT count(*)::text FROM app.feature_events") == ["0"])
        }
    }

    /// A body that holds a valid event beside something the JSON parser refuses, and the reason to expect.
    struct RefusedBody: Sendable, CustomTestStringConvertible {
        let name: String
        let bytes: [UInt8]
        let reason: String
        var testDescription: String { name }
    }

    static var refusedEventBodies: [RefusedBody] {
        let event = #"{"feature":"dashboards.view","actor":"u","occurred_at":"2026-11-02T10:00:00Z"}"#
        let withNull = "[" + event + #",{"feature":"dashboards.view","actor":"u\u0000v","occurred_at":"2026-11-02T10:00:00Z"}]"#
        let tooLarge = #"{"events":["# + event + #"],"sent":1e400}"#
        let tooManyDecimals = #"{"events":["# + event + #"],"sent":1e-16384}"#
        let brokenUTF8: [UInt8] = Array(("[" + event + #",{"feature":"dashboards.view","actor":"u"#).utf8)
            + [0xC3, 0x28] + Array(#"","occurred_at":"2026-11-02T10:00:00Z"}]"#.utf8)
        let tooDeep = #"{"events":["# + event + #"],"trace":"# + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}"
        return [
            RefusedBody(name: "\\u0000 in an actor", bytes: Array(withNull.utf8), reason: "\\u0000 cannot be stored"),
            RefusedBody(name: "1e400", bytes: Array(tooLarge.utf8), reason: "the number 1e400 is out of range"),
            RefusedBody(name: "1e-16384", bytes: Array(tooManyDecimals.utf8),
                        reason: "more digits after the decimal point than PostgreSQL's numeric can store"),
            RefusedBody(name: "invalid UTF-8", bytes: brokenUTF8, reason: "not valid UTF-8"),
            RefusedBody(name: "513 levels of nesting", bytes: Array(tooDeep.utf8), reason: "nesting deeper than 512 levels"),
        ]
    }

    /// An events body goes through the statements' parser, so it is refused on the same grounds, with a
    /// 400 that names the problem and nothing of the batch stored (a `\u0000` used to pass Foundation's
    /// parser and fail the INSERT with a 500).
    @Test(arguments: refusedEventBodies)
    func productEventsAreRefusedOnTheSameJSONGroundsAsStatements(_ body: RefusedBody) async throws {
        try await LRSFixture.with { client, fixture in
            var headers = fixture.a.headers
            headers[XAPIRoutes.versionHeader] = nil
            try await client.execute(uri: "/api/v1/events", method: .post, headers: headers, body: ByteBuffer(bytes: body.bytes)) { response in
                let text = String(buffer: response.body)
                #expect(response.status == .badRequest, "\(text)")
                #expect(text.contains("the request body is not valid JSON") && text.contains(body.reason), "\(text)")
            }
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.feature_events") == ["0"])
        }
    }
}
