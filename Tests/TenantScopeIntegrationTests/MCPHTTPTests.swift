import Foundation
import HTTPTypes
import HummingbirdTesting
import MCP
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// `/mcp` in-process: JSON-RPC over the SDK's stateless transport, in the scope of the bearer token.
/// (Tests/clients/mcp_client_test.py drives it with the PyPI `mcp` client against `serve`.)
@Suite(.database) struct MCPHTTPTests {
    func withApp(guardMode: GuardedSQLService.GuardMode = .enforced, _ body: @Sendable (any TestClientProtocol, TwoTenants) async throws -> Void) async throws {
        let handle = try TestDatabase.current
        let fixture = try await TwoTenants.make(handle)
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits)
        var configuration = ServerConfiguration(port: 0, rollupInterval: nil)
        configuration.sqlGuard = guardMode
        let app = buildApplication(database: database, configuration: configuration, tokens: try await TestTokens.verifier(for: database),
                                   catalog: try StandardReports.catalog(), logger: TestDatabase.logger)
        try await app.test(.router) { client in try await body(client, fixture) }
    }

    static func rpc(_ client: any TestClientProtocol, _ token: String, _ method: String, _ params: JSONValue = .object([:])) async throws -> (HTTPTypes.HTTPResponse.Status, String) {
        let message = JSONValue.object(["jsonrpc": "2.0", "id": 1, "method": .string(method), "params": params]).jsonText
        let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json", .accept: "application/json, text/event-stream"]
        return try await client.execute(uri: "/mcp", method: .post, headers: headers, body: ByteBuffer(string: message)) { response in
            (response.status, String(buffer: response.body))
        }
    }

    static func call(_ client: any TestClientProtocol, _ token: String, _ tool: String, _ arguments: JSONObject = [:]) async throws -> String {
        let (status, body) = try await rpc(client, token, "tools/call", .object(["name": .string(tool), "arguments": .object(arguments)]))
        #expect(status == .ok, "\(tool): \(body)")
        return body
    }

    @Test func anAgentListsAndCallsToolsInItsTokensTenantOnly() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let (status, initialized) = try await Self.rpc(client, token, "initialize", .object([
                "protocolVersion": "2025-06-18", "capabilities": .object([:]), "clientInfo": .object(["name": "test", "version": "1"]),
            ]))
            #expect(status == .ok && initialized.contains("TenantScope"), "\(initialized)")
            let (_, tools) = try await Self.rpc(client, token, "tools/list")
            for name in ["list_reports", "run_report", "describe_semantic_layer", "run_sql"] { #expect(tools.contains("\"\(name)\"")) }
            #expect(try await Self.call(client, token, "list_reports").contains("completion_rate_by_course"))
            let report = try await Self.call(client, token, "run_report", ["name": "completion_rate_by_course"])
            #expect(report.contains("Canary course") && !report.contains(fixture.b.canary))
            // A NUL in a parameter (JSON can carry one, a query string cannot) is refused as over HTTP, not sent to PostgreSQL.
            let nul = try await Self.call(client, token, "run_report", ["name": "completion_rate_by_course", "parameters": .object(["course": "a\u{0}b"])])
            #expect(nul.contains("\"isError\":true") && nul.contains("contains a NUL character"), "\(nul)")
            #expect(try await Self.call(client, token, "describe_semantic_layer").contains("semantic.statements"))
            let rows = try await Self.call(client, token, "run_sql", ["sql": "SELECT course_iri FROM courses"])
            #expect(rows.contains(fixture.a.canary) && !rows.contains(fixture.b.canary), "\(rows)")
            let refused = try await Self.call(client, token, "run_sql", ["sql": "SELECT set_config('app.tenant_ctx', 'x', true)"])
            #expect(refused.contains("\"isError\":true") && refused.contains("FuncCall"))
            let named = try await Self.call(client, token, "run_sql", ["sql": "SELECT 1", "tenant_id": .string(fixture.b.tenant.id.description)])
            #expect(named.contains("\"isError\":true") && named.contains("the tenant comes from the token"))
            // Every name the HTTP surface refuses for a tenant (an organisation) is refused here too, an argument the
            // tool does not take is refused rather than ignored, and so are parameters that are not an object.
            let organisation = try await Self.call(client, token, "run_sql", ["sql": "SELECT 1", "org_id": .string(fixture.b.tenant.id.description)])
            #expect(organisation.contains("\"isError\":true") && organisation.contains("the tenant comes from the token"), "\(organisation)")
            let unknown = try await Self.call(client, token, "run_sql", ["sql": "SELECT 1", "limit": .string("5")])
            #expect(unknown.contains("\"isError\":true") && unknown.contains("'limit' is not one of run_sql's"), "\(unknown)")
            let flat = try await Self.call(client, token, "run_report", ["name": "active_learners", "parameters": .string("days=7")])
            #expect(flat.contains("\"isError\":true") && flat.contains("must be an object"), "\(flat)")
            let (_, resource) = try await Self.rpc(client, token, "resources/read", .object(["uri": "tenantscope://semantic-layer"]))
            #expect(resource.contains("semantic.enrollments"))
        }
    }

    @Test func aViewerMayNotRunSQLAndNoTokenGetsNothing() async throws {
        try await withApp { client, fixture in
            let viewer = try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer)
            let body = try await Self.call(client, viewer, "run_sql", ["sql": "SELECT 1"])
            #expect(body.contains("\"isError\":true") && body.contains("analyst"))
            try await client.execute(uri: "/mcp", method: .post, headers: [.contentType: "application/json"],
                                     body: ByteBuffer(string: #"{"jsonrpc":"2.0","id":1,"method":"tools/list"}"#)) { response in
                #expect(response.status == .unauthorized)
            }
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            try await client.execute(uri: "/mcp", method: .get, headers: [.authorization: "Bearer \(token)"]) { response in
                #expect(response.status == .methodNotAllowed)
            }
        }
    }

    /// Odd JSON-RPC bodies (what schemathesis generates) are answered, never a 5xx or a request left waiting.
    /// The time limit is a hang detector only: a full run on 2 cores took over a minute for this test alone.
    @Test(.timeLimit(.minutes(10))) func oddMessagesAreAnsweredPromptly() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json", .accept: "application/json, text/event-stream"]
            for body in [#"{}"#, #"{"jsonrpc":"2.0","method":"tools/list","id":null}"#, #"{"jsonrpc":"2.0","id":1,"result":{}}"#,
                         #"{"jsonrpc":"2.0","method":"nope","id":2}"#, #"{"jsonrpc":"2.0","method":"notifications/initialized"}"#,
                         #"{"jsonrpc":"2.0","method":"tools/call","id":"x","params":{"name":"run_sql","arguments":{"sql":7}}}"#,
                         #"[{"jsonrpc":"2.0","method":"ping","id":1}]"#,
                         // The SDK's JSON decoder accepts U+0000: the guard refuses it and the audit row is still written.
                         #"{"jsonrpc":"2.0","method":"tools/call","id":3,"params":{"name":"run_sql","arguments":{"sql":"SELECT 1\u0000"}}}"#, #"{"jsonrpc":"1.0","method":"ping","id":1}"#, "not json"] {
                try await client.execute(uri: "/mcp", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                    #expect(response.status.code < 500, "\(body): \(response.status)")
                    if body.contains("u0000") {
                        #expect(String(buffer: response.body).contains("\"isError\":true") && String(buffer: response.body).contains("NUL"))
                    }
                }
            }
        }
    }

    /// Messages the SDK would read one way to wait for and another to answer (an id that is a boolean, an object or an
    /// array; an id named twice) are refused at once: before, the request was never answered and held the tenant's slot.
    /// The time limit is a hang detector, as above, not a measure.
    @Test(.timeLimit(.minutes(10))) func messagesTheSDKWouldNeverAnswerAreRefused() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer)
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json", .accept: "application/json, text/event-stream"]
            for (body, code) in [(#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#, "-32600"), (#"{"jsonrpc":"2.0","id":false,"method":"tools/list"}"#, "-32600"),
                                 (#"{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}"#, "-32600"), (#"{"jsonrpc":"2.0","id":3,"id":"abc","method":"ping"}"#, "-32700")] {
                try await client.execute(uri: "/mcp", method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
                    let text = String(buffer: response.body)
                    #expect(response.status == .badRequest && text.contains(code), "\(body): \(response.status) \(text)")
                }
            }
            // A well-formed message is still answered.
            #expect(try await Self.rpc(client, token, "ping").0 == .ok)
        }
    }

    /// Probe 38: an id the SDK cannot read as a string or an integer (1.5, beyond 64 bits, null) made it take a request
    /// for a notification: 202, no answer, the tool never run, the client waiting for good. JSON that is no JSON-RPC
    /// message was called a parse error. Params of the wrong shape were answered `-32603 Internal error`. Each is now
    /// a clear refusal, and the ids the SDK reads (`1e3`, `-0`, the largest integer) are still answered.
    @Test(.timeLimit(.minutes(10))) func idsTheSDKCannotReadAndMalformedParamsAreRefusedClearly() async throws {
        try await withApp { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            let headers: HTTPFields = [.authorization: "Bearer \(token)", .contentType: "application/json", .accept: "application/json, text/event-stream"]
            func send(_ body: String) async throws -> (HTTPTypes.HTTPResponse.Status, String) {
                try await client.execute(uri: "/mcp", method: .post, headers: headers, body: ByteBuffer(string: body)) { ($0.status, String(buffer: $0.body)) }
            }
            let sql = #""method":"tools/call","params":{"name":"run_sql","arguments":{"sql":"SELECT 1 AS one"}}"#
            for id in ["1.5", "100000000000000000000000000000", "9223372036854775808", "null"] {
                let (status, body) = try await send(#"{"jsonrpc":"2.0","id":\#(id),\#(sql)}"#)
                #expect(status == .badRequest && body.contains("-32600") && body.contains("integer"), "id \(id): \(status) \(body)")
            }
            for id in ["1e3", "-0", "9223372036854775807", #""x""#] {
                let (status, body) = try await send(#"{"jsonrpc":"2.0","id":\#(id),\#(sql)}"#)
                #expect(status == .ok && body.contains("\"result\"") && body.contains("one"), "id \(id): \(status) \(body)")
            }
            for (body, reason) in [(#"[{"jsonrpc":"2.0","id":1,"method":"ping"}]"#, "batches"), ("[]", "batches"),
                                   (#"{"id":1,"method":"ping"}"#, "jsonrpc"), (#"{"jsonrpc":"1.0","id":1,"method":"ping"}"#, "jsonrpc"), ("7", "object")] {
                let (status, text) = try await send(body)
                #expect(status == .badRequest && text.contains("-32600") && text.contains(reason), "\(body): \(status) \(text)")
            }
            for (params, member) in [(#"{"name":"run_sql","arguments":"SELECT 1"}"#, "params.arguments"), (#"{"arguments":{}}"#, "params.name"),
                                     (#"{"name":5}"#, "params.name"), (#"["list_reports"]"#, "params must be an object"), ("null", "params must be an object")] {
                let (status, text) = try await send(#"{"jsonrpc":"2.0","id":"call-7","method":"tools/call","params":\#(params)}"#)
                #expect(status == .ok && text.contains("-32602") && text.contains(member) && text.contains(#""id":"call-7""#), "\(params): \(text)")
            }
            for body in [#"{"jsonrpc":"2.0","id":1,"method":"tools/call"}"#, #"{"jsonrpc":"2.0","id":1,"method":"initialize"}"#,
                         #"{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":5}}"#,
                         #"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"x"}}}"#] {
                let (status, text) = try await send(body)
                #expect(status == .ok && text.contains("-32602") && !text.contains("-32603"), "\(body): \(text)")
            }
        }
    }

    /// A message the SDK never answers ends at the deadline instead of holding the request (and its slot) for good.
    @Test(.timeLimit(.minutes(10))) func anUnansweredMessageEndsAtTheDeadline() async throws {
        let server = Server(name: "test", version: "1")
        let transport = StatelessHTTPServerTransport()
        try await server.start(transport: transport)
        // The SDK waits for an answer to this message and never sends one it can match (the guard above refuses it).
        let request = MCP.HTTPRequest(method: "POST", headers: ["Content-Type": "application/json", "Accept": "application/json, text/event-stream"],
                                      body: Data(#"{"jsonrpc":"2.0","id":true,"method":"ping"}"#.utf8), path: "/mcp")
        let answer = await MCPRoutes.answer(request, on: transport, within: .seconds(1))
        #expect(answer == nil, "the deadline ended the wait")
        await server.stop()
    }

    /// The MCP run_sql tool with the guard off: the same corpus as /api/v1/sql never shows tenant B.
    @Test func withoutTheParserRunSQLStillShowsNothingOfTenantB() async throws {
        try await withApp(guardMode: .offForTesting) { client, fixture in
            let token = try await TestTokens.tenant(fixture.a.tenant.id, role: .analyst)
            for sql in SQLHTTPTests.attacks + SemanticLayer.views.map({ "SELECT * FROM semantic.\($0.name)" }) {
                let body = try await Self.call(client, token, "run_sql", ["sql": .string(sql)])
                #expect(!body.contains(fixture.b.canary), "\(sql)")
            }
        }
    }
}
