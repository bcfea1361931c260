import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// The xAPI document resources (State, Activity Profile, Agent Profile) and the Activities and Agents
/// resources over HTTP against real PostgreSQL: the xAPI 1.0.3 rules, and tenant isolation with the
/// same ids in two tenants. Serialized: each test opens a server with pools of its own, and opening
/// seven at once, while the other suites start, can outlast the pool's acquire timeout on a loaded machine.
@Suite(.database, .serialized) struct XAPIDocumentTests {
    typealias Client = any TestClientProtocol

    static let activity = "https://example.com/activities/doc-tests"
    static let agent = #"{"objectType":"Agent","mbox":"mailto:learner@example.com"}"#

    static func encode(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
    }

    static func stateURI(_ stateID: String? = nil, activity: String = activity, agent: String = agent, extra: String = "") -> String {
        var uri = "/xAPI/activities/state?activityId=\(encode(activity))&agent=\(encode(agent))"
        if let stateID { uri += "&stateId=\(encode(stateID))" }
        return uri + extra
    }

    static func profileURI(_ profileID: String? = nil) -> String {
        "/xAPI/activities/profile?activityId=\(encode(activity))" + (profileID.map { "&profileId=\(encode($0))" } ?? "")
    }

    static func agentProfileURI(_ profileID: String? = nil) -> String {
        "/xAPI/agents/profile?agent=\(encode(agent))" + (profileID.map { "&profileId=\(encode($0))" } ?? "")
    }

    static func with(_ headers: HTTPFields, _ extra: [(HTTPField.Name, String)]) -> HTTPFields {
        var headers = headers
        for (name, value) in extra { headers[name] = value }
        return headers
    }

    @discardableResult
    static func send(
        _ client: Client, _ method: HTTPRequest.Method, _ uri: String, _ headers: HTTPFields, _ body: String? = nil,
        expect status: HTTPResponse.Status, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws -> (body: String, headers: HTTPFields) {
        try await XAPIConformanceTests.send(client, method, uri, headers, body, expect: status, sourceLocation: sourceLocation)
    }

    // MARK: - State

    @Test func stateIsStoredReadListedAndDeleted() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            try await Self.send(client, .put, Self.stateURI("s1"), h, #"{"a":1}"#, expect: .noContent)
            let read = try await Self.send(client, .get, Self.stateURI("s1"), h, expect: .ok)
            #expect(XAPIJSON.object(read.body)["a"] == .number("1"))
            #expect(read.headers[.contentType] == "application/json")
            #expect(read.headers[.eTag] == "\"\(DocumentContent(bytes: Array(#"{"a":1}"#.utf8), contentType: nil).etag)\"")
            #expect(read.headers[.lastModified] != nil)
            // A State is simply replaced by PUT (no concurrency headers needed).
            try await Self.send(client, .put, Self.stateURI("s1"), h, #"{"b":2}"#, expect: .noContent)
            try await Self.send(client, .put, Self.stateURI("s2"), h, #"{}"#, expect: .noContent)
            let listed = try await Self.send(client, .get, Self.stateURI(), h, expect: .ok)
            #expect(XAPIConformanceTests.ids(listed.body) == ["s1", "s2"])
            let head = try await Self.send(client, .head, Self.stateURI("s1"), h, expect: .ok)
            #expect(head.body.isEmpty && head.headers[.eTag] != nil)
            try await Self.send(client, .delete, Self.stateURI("s1"), h, expect: .noContent)
            try await Self.send(client, .get, Self.stateURI("s1"), h, expect: .notFound)
            try await Self.send(client, .delete, Self.stateURI(), h, expect: .noContent)
            #expect(XAPIConformanceTests.ids(try await Self.send(client, .get, Self.stateURI(), h, expect: .ok).body).isEmpty)
        }
    }

    /// Probe 38: a document is whatever bytes and type its writer sent, HTML included, and the Alternate Request Syntax
    /// lets a form on any site open it as a page on this origin, beside the dashboards. Every answer that is not one of
    /// our pages carries a policy under which nothing runs or loads (the browser test runs such a page in Chromium).
    @Test func aStoredHTMLDocumentIsServedUnderAPolicyThatRunsNothing() async throws {
        try await LRSFixture.with { client, fixture in
            let html = "<html><title>stored</title><script>document.title = 'ran'</script></html>"
            var h = fixture.a.headers
            h[.contentType] = "text/html"
            try await Self.send(client, .put, Self.stateURI("page"), h, html, expect: .noContent)
            var form = HTTPFields()
            form[.contentType] = "application/x-www-form-urlencoded"
            let fields = [("Authorization", fixture.a.headers[.authorization]!), ("X-Experience-API-Version", "1.0.3"),
                          ("activityId", Self.activity), ("agent", Self.agent), ("stateId", "page")]
            let body = fields.map { QueryParameters.encode($0.0) + "=" + QueryParameters.encode($0.1) }.joined(separator: "&")
            for read in [try await Self.send(client, .get, Self.stateURI("page"), fixture.a.headers, expect: .ok),
                         try await Self.send(client, .post, "/xAPI/activities/state?method=GET", form, body, expect: .ok)] {
                #expect(read.body == html && read.headers[.contentType] == "text/html")
                let policy = try #require(read.headers[.contentSecurityPolicy])
                #expect(policy.contains("sandbox") && policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "\(policy)")
                #expect(read.headers[.xContentTypeOptions] == "nosniff")
            }
            // Errors and JSON answers carry it too; the pages keep their own.
            let error = try await Self.send(client, .get, Self.stateURI("missing"), fixture.a.headers, expect: .notFound)
            #expect(error.headers[.contentSecurityPolicy]?.contains("sandbox") == true)
        }
    }

    @Test func registrationSeparatesStates() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            let registration = "&registration=\(UUID().uuidString)"
            try await Self.send(client, .put, Self.stateURI("r", extra: registration), h, #"{"with":true}"#, expect: .noContent)
            try await Self.send(client, .get, Self.stateURI("r"), h, expect: .notFound)
            try await Self.send(client, .get, Self.stateURI("r", extra: registration), h, expect: .ok)
            try await Self.send(client, .get, Self.stateURI("r", extra: "&registration=nope"), h, expect: .badRequest)
        }
    }

    /// Concurrent first writes of one document: State PUTs all succeed (the last one wins), POSTs of JSON
    /// objects all land in one merged document or are told to retry (409), never a 500.
    @Test func concurrentFirstWritesOfOneDocument() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            let statuses = try await withThrowingTaskGroup(of: (HTTPResponse.Status, HTTPResponse.Status).self) { group in
                for index in 0..<8 {
                    group.addTask {
                        let put = try await client.execute(uri: Self.stateURI("race-put"), method: .put, headers: h, body: ByteBuffer(string: #"{"n":\#(index)}"#)) { $0.status }
                        let post = try await client.execute(uri: Self.stateURI("race-post"), method: .post, headers: h, body: ByteBuffer(string: #"{"k\#(index)":1}"#)) { $0.status }
                        return (put, post)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0.0 == .noContent }, "\(statuses)")
            #expect(statuses.allSatisfy { [.noContent, .conflict].contains($0.1) }, "\(statuses)")
            let merged = XAPIJSON.object(try await Self.send(client, .get, Self.stateURI("race-post"), h, expect: .ok).body)
            #expect(merged.count == statuses.filter { $0.1 == .noContent }.count, "\(merged)")
        }
    }

    @Test func sinceListsOnlyDocumentsUpdatedAfterIt() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            try await Self.send(client, .put, Self.stateURI("old"), h, "{}", expect: .noContent)
            try await Task.sleep(for: .milliseconds(20))
            let between = ISO8601Timestamp.formatMicroseconds(Date())
            try await Task.sleep(for: .milliseconds(20))
            try await Self.send(client, .put, Self.stateURI("new"), h, "{}", expect: .noContent)
            let listed = try await Self.send(client, .get, Self.stateURI(extra: "&since=\(Self.encode(between))"), h, expect: .ok)
            #expect(XAPIConformanceTests.ids(listed.body) == ["new"])
            try await Self.send(client, .get, Self.stateURI(extra: "&since=yesterday"), h, expect: .badRequest)
        }
    }

    @Test func postMergesTopLevelKeysOfJSONObjects() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            try await Self.send(client, .post, Self.stateURI("m"), h, #"{"car":{"make":"Ford"},"driver":"Dale"}"#, expect: .noContent)
            try await Self.send(client, .post, Self.stateURI("m"), h, #"{"car":{"model":"Ram"},"series":1}"#, expect: .noContent)
            let merged = XAPIJSON.object(try await Self.send(client, .get, Self.stateURI("m"), h, expect: .ok).body)
            #expect(merged["car"] == .object(["model": "Ram"]))
            #expect(merged["driver"] == "Dale" && merged["series"] == .number("1"))
            // Not JSON, or not an object: 400, and the stored document is unchanged.
            try await Self.send(client, .post, Self.stateURI("m"), Self.with(h, [(.contentType, "text/plain")]), "abc", expect: .badRequest)
            #expect(try await Self.send(client, .post, Self.stateURI("m"), h, "[1]", expect: .badRequest).body.contains("must be a JSON object"))
            // What is not JSON says where it stops being JSON (probe 38: every reason read "must be a JSON object").
            #expect(try await Self.send(client, .post, Self.stateURI("m"), h, #"{"broken":"#, expect: .badRequest).body.contains("not valid JSON"))
            let deep = #"{"deep":"# + String(repeating: "[", count: 600) + String(repeating: "]", count: 600) + "}"
            #expect(try await Self.send(client, .post, Self.stateURI("m"), h, deep, expect: .badRequest).body.contains("nesting"))
            #expect(XAPIJSON.object(try await Self.send(client, .get, Self.stateURI("m"), h, expect: .ok).body) == merged)
            // A stored non-JSON document takes no merge; its bytes and type come back as sent.
            try await Self.send(client, .put, Self.stateURI("bin"), Self.with(h, [(.contentType, "application/octet-stream")]), "/ asdf /",
                               expect: .noContent)
            try await Self.send(client, .post, Self.stateURI("bin"), h, #"{"a":1}"#, expect: .badRequest)
            let bin = try await Self.send(client, .get, Self.stateURI("bin"), h, expect: .ok)
            #expect(bin.body == "/ asdf /" && bin.headers[.contentType] == "application/octet-stream")
        }
    }

    @Test func badParametersAre400() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            try await Self.send(client, .get, "/xAPI/activities/state?agent=\(Self.encode(Self.agent))&stateId=x", h, expect: .badRequest)
            try await Self.send(client, .get, "/xAPI/activities/state?activityId=\(Self.encode(Self.activity))&stateId=x", h, expect: .badRequest)
            try await Self.send(client, .put, Self.stateURI(), h, "{}", expect: .badRequest)
            try await Self.send(client, .get, Self.stateURI("x", agent: "not JSON"), h, expect: .badRequest)
            try await Self.send(client, .get, Self.stateURI("x", agent: #"{"name":"no identifier"}"#), h, expect: .badRequest)
            try await Self.send(client, .get, Self.stateURI("x", activity: "not an iri"), h, expect: .badRequest)
            try await Self.send(client, .get, Self.stateURI("x", extra: "&tenant=other"), h, expect: .badRequest)
            try await Self.send(client, .get, Self.stateURI("x", extra: "&since=2020-01-01T00:00:00Z"), h, expect: .badRequest)
            try await Self.send(client, .delete, Self.profileURI(), h, expect: .badRequest)
            // 200 characters of e + combining accent: 400 code points, too long for the column (not a 500).
            try await Self.send(client, .put, Self.stateURI("x"), Self.with(h, [(.contentType, "a/" + String(repeating: "e\u{301}", count: 200))]), "x",
                               expect: .badRequest)
            // The longest key parts fit the primary key's b-tree entry.
            let longest = Self.stateURI(String(repeating: "s", count: 500), activity: "https://x.example/" + String(repeating: "a", count: 982),
                                        agent: #"{"openid":"https://o.example/\#(String(repeating: "o", count: 975))"}"#)
            try await Self.send(client, .put, longest, h, "{}", expect: .noContent)
            try await Self.send(client, .get, longest, h, expect: .ok)
            try await Self.send(client, .get, "/xAPI/activities", h, expect: .badRequest)
            try await Self.send(client, .get, "/xAPI/agents?agent=%7B%7D", h, expect: .badRequest)
            var noVersion = h
            noVersion[XAPIRoutes.versionHeader] = nil
            try await Self.send(client, .get, Self.stateURI("x"), noVersion, expect: .badRequest)
        }
    }

    // MARK: - Profiles and concurrency

    @Test func profilePutNeedsConcurrencyHeaders() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            for uri in [Self.profileURI("p"), Self.agentProfileURI("p")] {
                // No header, no document: 400; If-None-Match: * creates; again: 412; no header now: 409.
                try await Self.send(client, .put, uri, h, #"{"v":1}"#, expect: .badRequest)
                try await Self.send(client, .put, uri, Self.with(h, [(.ifNoneMatch, "*")]), #"{"v":1}"#, expect: .noContent)
                try await Self.send(client, .put, uri, Self.with(h, [(.ifNoneMatch, "*")]), #"{"v":2}"#, expect: .preconditionFailed)
                let conflict = try await Self.send(client, .put, uri, h, #"{"v":2}"#, expect: .conflict)
                #expect(conflict.body.contains("If-Match"))
                let etag = try #require(try await Self.send(client, .get, uri, h, expect: .ok).headers[.eTag])
                try await Self.send(client, .put, uri, Self.with(h, [(.ifMatch, "\"\(String(repeating: "1", count: 40))\"")]), #"{"v":3}"#,
                                   expect: .preconditionFailed)
                try await Self.send(client, .put, uri, Self.with(h, [(.ifMatch, etag)]), #"{"v":4}"#, expect: .noContent)
                #expect(XAPIJSON.object(try await Self.send(client, .get, uri, h, expect: .ok).body)["v"] == .number("4"))
                // The old ETag no longer matches, for a POST or a DELETE either.
                try await Self.send(client, .post, uri, Self.with(h, [(.ifMatch, etag)]), #"{"w":1}"#, expect: .preconditionFailed)
                try await Self.send(client, .delete, uri, Self.with(h, [(.ifMatch, etag)]), expect: .preconditionFailed)
                // POST needs no header.
                try await Self.send(client, .post, uri, h, #"{"w":1}"#, expect: .noContent)
                try await Self.send(client, .delete, uri, h, expect: .noContent)
                try await Self.send(client, .get, uri, h, expect: .notFound)
            }
            try await Self.send(client, .post, Self.profileURI("p2"), h, "{}", expect: .noContent)
            #expect(XAPIConformanceTests.ids(try await Self.send(client, .get, Self.profileURI(), h, expect: .ok).body) == ["p2"])
        }
    }

    /// Probe 38: `If-Match` compares strongly (a weak tag never matches; `If-None-Match` compares weakly), and a DELETE of
    /// every State of an activity and agent, which has no one ETag, refuses a precondition instead of ignoring it.
    @Test func ifMatchComparesStronglyAndDeletingEveryStateTakesNoPrecondition() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            try await Self.send(client, .put, Self.stateURI("s1"), h, #"{"a":1}"#, expect: .noContent)
            try await Self.send(client, .put, Self.stateURI("s2"), h, #"{"b":1}"#, expect: .noContent)
            let etag = try #require(try await Self.send(client, .get, Self.stateURI("s1"), h, expect: .ok).headers[.eTag])
            try await Self.send(client, .post, Self.stateURI("s1"), Self.with(h, [(.ifMatch, "W/" + etag)]), #"{"c":1}"#, expect: .preconditionFailed)
            try await Self.send(client, .post, Self.stateURI("s1"), Self.with(h, [(.ifNoneMatch, "W/" + etag)]), #"{"c":1}"#,
                                expect: .preconditionFailed)
            #expect(XAPIJSON.object(try await Self.send(client, .get, Self.stateURI("s1"), h, expect: .ok).body)["c"] == nil, "nothing merged")
            try await Self.send(client, .post, Self.stateURI("s1"), Self.with(h, [(.ifMatch, etag)]), #"{"c":1}"#, expect: .noContent)
            for header in [(HTTPField.Name.ifMatch, "\"nope\""), (.ifMatch, "*"), (.ifNoneMatch, "*")] {
                let refused = try await Self.send(client, .delete, Self.stateURI(), Self.with(h, [header]), expect: .badRequest)
                #expect(refused.body.contains("stateId"))
            }
            #expect(XAPIConformanceTests.ids(try await Self.send(client, .get, Self.stateURI(), h, expect: .ok).body) == ["s1", "s2"])
            try await Self.send(client, .delete, Self.stateURI(), h, expect: .noContent)
            #expect(XAPIConformanceTests.ids(try await Self.send(client, .get, Self.stateURI(), h, expect: .ok).body).isEmpty)
        }
    }

    /// Many writers holding the same ETag at once (PUT, POST and DELETE with `If-Match`): exactly one wins
    /// (204), every other gets 412, nothing is lost, and the document is the winner's. Each write is one
    /// statement that locks the row before it checks `If-Match` (architecture decision 45); without the lock,
    /// several would pass the check.
    @Test func concurrentIfMatchWritersExactlyOneWins() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            for uri in [Self.stateURI("contended"), Self.profileURI("contended"), Self.agentProfileURI("contended")] {
                try await Self.send(client, .put, uri, Self.with(h, [(.ifNoneMatch, "*")]), #"{"round":0}"#, expect: .noContent)
                for round in 1...4 {
                    let etag = try #require(try await Self.send(client, .get, uri, h, expect: .ok).headers[.eTag])
                    let ifMatch = Self.with(h, [(.ifMatch, etag)])
                    let results = try await withThrowingTaskGroup(of: (Int, HTTPRequest.Method, HTTPResponse.Status).self) { group in
                        for writer in 0..<16 {
                            // Mostly PUT and POST; in the last round a few DELETEs contend as well.
                            let method: HTTPRequest.Method = round == 4 && writer % 4 == 3 ? .delete : writer.isMultiple(of: 2) ? .put : .post
                            let body = method == .put ? #"{"round":\#(round),"writer":\#(writer)}"# : #"{"w\#(writer)":\#(round)}"#
                            group.addTask {
                                try await client.execute(uri: uri, method: method, headers: ifMatch,
                                                         body: method == .delete ? nil : ByteBuffer(string: body)) { (writer, method, $0.status) }
                            }
                        }
                        return try await group.reduce(into: []) { $0.append($1) }
                    }
                    let winners = results.filter { $0.2 == .noContent }
                    #expect(winners.count == 1, "\(uri) round \(round): \(results)")
                    #expect(results.allSatisfy { [.noContent, .preconditionFailed].contains($0.2) }, "\(results)")
                    guard let (writer, method, _) = winners.first else { continue }
                    if method == .delete {
                        try await Self.send(client, .get, uri, h, expect: .notFound)
                        continue
                    }
                    let stored = try await Self.send(client, .get, uri, h, expect: .ok)
                    let document = XAPIJSON.object(stored.body)
                    if method == .put {
                        #expect(stored.body == #"{"round":\#(round),"writer":\#(writer)}"#, "the PUT's bytes, exactly")
                    } else {
                        // The winner's key merged in, and no other writer's of this round.
                        #expect(document["w\(writer)"] == .number("\(round)"))
                        #expect(document.filter { $0.key.hasPrefix("w") && $0.key != "writer" && $0.value == .number("\(round)") }.count == 1, "\(document)")
                    }
                    #expect(stored.headers[.eTag] == "\"\(DocumentContent(bytes: Array(stored.body.utf8), contentType: nil).etag)\"")
                }
            }
        }
    }

    /// A POST's merge keeps each member's bytes as they were sent (numbers and spacing inside a value
    /// included), writes the top level compactly with keys in code-point order, and the ETag is the SHA-1
    /// of the merged bytes. A stored document that `JSONParser` would not read as an object takes no merge.
    @Test func mergedDocumentKeepsEachMembersBytes() async throws {
        try await LRSFixture.with { client, fixture in
            let h = fixture.a.headers
            try await Self.send(client, .put, Self.stateURI("bytes"), h, "{\"z\" : [1, 2],\n \"a\":1.50, \"\\u00e9\":true}", expect: .noContent)
            try await Self.send(client, .post, Self.stateURI("bytes"), h, #"{"m":{"x": 1E2},"a":-0}"#, expect: .noContent)
            let merged = try await Self.send(client, .get, Self.stateURI("bytes"), h, expect: .ok)
            #expect(merged.body == #"{"a":-0,"m":{"x": 1E2},"z":[1, 2],"é":true}"#)
            #expect(merged.headers[.contentType] == "application/json")
            #expect(merged.headers[.eTag] == "\"\(DocumentContent(bytes: Array(merged.body.utf8), contentType: nil).etag)\"")
            // JSON the parser refuses (a number beyond a Double, nesting past 512 levels): 400, unchanged.
            for refused in [#"{"big":1e400}"#, #"{"deep":"# + String(repeating: "[", count: 512) + String(repeating: "]", count: 512) + "}"] {
                try await Self.send(client, .put, Self.stateURI("refused"), h, refused, expect: .noContent)
                let answer = try await Self.send(client, .post, Self.stateURI("refused"), h, #"{"a":1}"#, expect: .badRequest)
                #expect(answer.body.contains("not a JSON object"))
                #expect(try await Self.send(client, .get, Self.stateURI("refused"), h, expect: .ok).body == refused)
            }
            // A stored Content-Type with parameters and other letter case is still JSON.
            try await Self.send(client, .put, Self.stateURI("typed"), Self.with(h, [(.contentType, "Application/JSON; charset=utf-8")]), #"{"a":1}"#,
                               expect: .noContent)
            try await Self.send(client, .post, Self.stateURI("typed"), h, #"{"b":2}"#, expect: .noContent)
            #expect(try await Self.send(client, .get, Self.stateURI("typed"), h, expect: .ok).body == #"{"a":1,"b":2}"#)
        }
    }

    // MARK: - Activities and Agents

    @Test func activityAndPersonComeFromTheTenantsOwnStatements() async throws {
        try await LRSFixture.with { client, fixture in
            let id = "https://example.com/activities/\(UUID().uuidString)"
            func statement(_ language: String, _ name: String) -> String {
                #"{"actor":{"mbox":"mailto:pat@example.com","name":"Pat"},"verb":{"id":"http://adlnet.gov/expapi/verbs/attended"},"#
                    + #""object":{"id":"\#(id)","definition":{"name":{"\#(language)":"\#(name)"}}}}"#
            }
            try await Self.send(client, .post, "/xAPI/statements", fixture.a.headers, "[\(statement("en-US", "meeting")),\(statement("fr-FR", "réunion"))]",
                               expect: .ok)
            let uri = "/xAPI/activities?activityId=\(Self.encode(id))"
            let activity = XAPIJSON.object(try await Self.send(client, .get, uri, fixture.a.headers, expect: .ok).body)
            #expect(activity["objectType"] == "Activity" && activity["id"] == .string(id))
            #expect(activity["definition"]?["name"] == .object(["en-US": "meeting", "fr-FR": "réunion"]))
            // Tenant B never sees A's definition, only the id it asked about.
            let other = XAPIJSON.object(try await Self.send(client, .get, uri, fixture.b.headers, expect: .ok).body)
            #expect(other == ["objectType": "Activity", "id": .string(id)])

            let agentURI = "/xAPI/agents?agent=\(Self.encode(#"{"mbox":"mailto:pat@example.com"}"#))"
            let person = XAPIJSON.object(try await Self.send(client, .get, agentURI, fixture.a.headers, expect: .ok).body)
            #expect(person["objectType"] == "Person" && person["name"] == ["Pat"] && person["mbox"] == ["mailto:pat@example.com"])
            let stranger = XAPIJSON.object(try await Self.send(client, .get, agentURI, fixture.b.headers, expect: .ok).body)
            #expect(stranger["name"] == nil && stranger["mbox"] == ["mailto:pat@example.com"])
            try await Self.send(client, .head, agentURI, fixture.a.headers, expect: .ok)
        }
    }

    // MARK: - Tenant isolation

    /// Tenant B uses exactly A's ids for every resource: it can neither read, list, overwrite, merge into
    /// nor delete A's documents; A's canary stays A's, and B's writes land in B's own tenant.
    @Test func anotherTenantCannotReachDocumentsWithTheSameIDs() async throws {
        try await LRSFixture.with { client, fixture in
            let a = fixture.a.headers, b = fixture.b.headers
            let canary = UUID().uuidString
            let uris = [Self.stateURI("shared"), Self.profileURI("shared"), Self.agentProfileURI("shared")]
            for uri in uris {
                try await Self.send(client, .put, uri, Self.with(a, [(.ifNoneMatch, "*")]), #"{"canary":"\#(canary)"}"#, expect: .noContent)
            }
            let aETag = try #require(try await Self.send(client, .get, uris[1], a, expect: .ok).headers[.eTag])
            for uri in uris {
                let list = uri.replacingOccurrences(of: "&stateId=shared", with: "").replacingOccurrences(of: "&profileId=shared", with: "")
                // Read, HEAD and list: nothing of A's.
                let read = try await Self.send(client, .get, uri, b, expect: .notFound)
                #expect(!read.body.contains(canary))
                try await Self.send(client, .head, uri, b, expect: .notFound)
                let listed = try await Self.send(client, .get, list, b, expect: .ok)
                #expect(XAPIConformanceTests.ids(listed.body).isEmpty, "\(list): \(listed.body)")
                // A's ETag means nothing in B; If-None-Match: * succeeds because B has no such document.
                try await Self.send(client, .put, uri, Self.with(b, [(.ifMatch, aETag)]), #"{"b":1}"#, expect: .preconditionFailed)
                try await Self.send(client, .delete, uri, Self.with(b, [(.ifMatch, aETag)]), expect: .preconditionFailed)
                try await Self.send(client, .put, uri, Self.with(b, [(.ifNoneMatch, "*")]), #"{"b":1}"#, expect: .noContent)
                try await Self.send(client, .post, uri, b, #"{"merged":"by b"}"#, expect: .noContent)
                let own = XAPIJSON.object(try await Self.send(client, .get, uri, b, expect: .ok).body)
                #expect(own == ["b": .number("1"), "merged": "by b"], "B's document holds only B's keys: \(own)")
                try await Self.send(client, .delete, uri, b, expect: .noContent)
                if uri.contains("/state") { try await Self.send(client, .delete, list, b, expect: .noContent) }
                // A's document is untouched.
                let kept = try await Self.send(client, .get, uri, a, expect: .ok)
                #expect(XAPIJSON.object(kept.body) == ["canary": .string(canary)], "\(uri): \(kept.body)")
            }
        }
    }
}
