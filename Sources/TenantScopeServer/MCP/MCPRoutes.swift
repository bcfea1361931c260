import Foundation
import HTTPTypes
import Hummingbird
import Logging
import MCP
import TenantScopeCore
import TenantScopePostgres

/// `/mcp`: the Model Context Protocol (Streamable HTTP) for AI agents, with the tenant's bearer token.
///
/// Built on the official Swift SDK (modelcontextprotocol/swift-sdk): its `Server` and its
/// `StatelessHTTPServerTransport`, which takes a framework-neutral request and returns a response, so it sits
/// behind a Hummingbird route (architecture decision 41). Each POST gets its own `Server`, whose tool handlers
/// capture the scope the bearer token was given: the tenant comes from the token only, no tool takes one, and
/// no state outlives the request (no MCP session, so nothing to hijack). GET (a server-to-client event stream)
/// and DELETE (ending a session) answer 405, as the specification allows for a server without sessions.
struct MCPRoutes {
    let tools: MCPTools
    let authenticator: BearerAuthenticator
    let audit: AuditLog
    var limits: TenantLimitEnforcer? = nil

    static let maximumBodyBytes = 256 * 1024

    /// How long a message may go unanswered before the request is ended with an error: longer than any tool runs (a
    /// report or a SQL query ends at the scoped statement timeout, 30 s), so only a message the SDK never answers meets it.
    static let answerDeadline: Duration = .seconds(90)

    func register(on router: Router<AppRequestContext>) {
        let group = router.tenantRoutes("mcp", authenticator: authenticator, purpose: "MCP", audit: audit, limits: limits, work: .queries)
        group.post { request, context in
            let body = try await RequestBody.collect(request, limit: Self.maximumBodyBytes)
            if let refusal = Self.refusal(of: body) { return refusal }
            let server = await tools.server(for: context.scope, logger: context.logger)
            // The bearer token is the whole credential; DNS rebinding needs an ambient one (a cookie), so the
            // SDK's localhost-only Host/Origin check, meant for unauthenticated local servers, is left out.
            let transport = StatelessHTTPServerTransport(validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ]))
            try await server.start(transport: transport)
            let answer = await Self.answer(MCP.HTTPRequest(method: "POST", headers: Self.headers(of: request), body: body, path: "/mcp"),
                                           on: transport, within: Self.answerDeadline)
            await server.stop()
            guard let answer else {
                // The SDK did not answer the message (a defect): end the request rather than hold the tenant's slot.
                context.logger.error("MCP message not answered in time", metadata: ["mcp.deadline": "\(Self.answerDeadline)"])
                return Self.error(status: .internalServerError, code: -32603, "the message was not answered within \(Self.answerDeadline)")
            }
            return Self.response(answer)
        }
        for method in [HTTPRequest.Method.get, .delete] {
            group.on("", method: method) { _, _ in
                var headers = HTTPFields()
                headers[.allow] = "POST"
                headers[.contentType] = "application/json; charset=utf-8"
                let body = #"{"jsonrpc":"2.0","error":{"code":-32000,"message":"Method Not Allowed: this server has no sessions and no event stream; POST JSON-RPC messages"},"id":null}"#
                return Response(status: .methodNotAllowed, headers: headers, body: .init(byteBuffer: .init(string: body)))
            }
        }
    }

    /// The transport's answer to `request`, or nil when it gave none within `deadline`: the transport is then closed,
    /// which ends its wait (the SDK resumes every waiting request when it terminates).
    static func answer(_ request: MCP.HTTPRequest, on transport: StatelessHTTPServerTransport, within deadline: Duration) async -> MCP.HTTPResponse? {
        await withTaskGroup(of: MCP.HTTPResponse?.self) { group in
            group.addTask { await transport.handleRequest(request) }
            group.addTask {
                guard (try? await Task.sleep(for: deadline)) != nil else { return nil }
                await transport.disconnect()
                return nil
            }
            defer { group.cancelAll() }
            // The first to finish decides: the answer, or the deadline (nil; its disconnect then ends the other).
            return await group.next() ?? nil
        }
    }

    /// A refusal of our own for a message the SDK would mishandle, or nil to hand the message to the SDK.
    ///
    /// A 400 for one it would never answer: one it reads as a request (and waits to answer) but cannot decode (an `id`
    /// that is `true`, `null`, `1.5` or beyond 64 bits: it then took the message for a notification, answered 202 and
    /// ran nothing), or whose `id` it reads differently (a member named twice). JSON-RPC ids here are strings or
    /// integers; a message's members are named once. A 400 too for what is JSON but no JSON-RPC message (a batch, which
    /// MCP no longer has; no `"jsonrpc": "2.0"`), which the SDK called a parse error. And for a request whose params do
    /// not have the shape its method needs, the JSON-RPC error `-32602` naming the member, with the request's id: the SDK
    /// answered those `-32603 Internal error` in Foundation's words (probe 38). Other malformed messages are the SDK's to
    /// refuse (it answers them).
    static func refusal(of body: Data) -> Response? {
        // One parse for a well-formed message; a second only to tell a member named twice from JSON that is not JSON.
        guard let message = try? JSONParser.parse(body, refusingDuplicateKeys: true) else {
            guard (try? JSONParser.parse(body)) != nil else { return nil }
            return error(status: .badRequest, code: -32700, "the message names a member twice")
        }
        guard let object = message.objectValue else {
            return error(status: .badRequest, code: -32600, message.arrayValue != nil
                ? "batches are not supported: send one JSON-RPC message per request" : "a JSON-RPC message is an object")
        }
        guard object["jsonrpc"] == .string("2.0") else {
            return error(status: .badRequest, code: -32600, #"the message's "jsonrpc" must be "2.0""#)
        }
        guard let id = object["id"] else { return nil }
        switch id {
        case .string: break
        case .number(let text) where Self.isIntegerID(text): break
        default: return error(status: .badRequest, code: -32600, "the message's id must be a string or an integer")
        }
        if case .string(let method)? = object["method"], let problem = MCPParams.problem(method: method, params: object["params"]) {
            return error(status: .ok, code: -32602, "Invalid params: " + problem, id: id)
        }
        return nil
    }

    /// Whether a numeric id is one the SDK reads (an integer, as Foundation's decoder reads `Int`: `1e3` and `-0` too).
    static func isIntegerID(_ text: String) -> Bool {
        (try? JSONDecoder().decode(Int.self, from: Data(text.utf8))) != nil
    }

    /// A JSON-RPC error answer of our own, with the request's id, or none (a message whose id cannot be read).
    static func error(status: HTTPResponse.Status, code: Int, _ message: String, id: JSONValue = .null) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        let body = JSONValue.object(["jsonrpc": "2.0", "id": id,
                                     "error": .object(["code": .number(String(code)), "message": .string(message)])]).jsonText
        return Response(status: status, headers: headers, body: .init(byteBuffer: .init(string: body)))
    }

    static func headers(of request: Request) -> [String: String] {
        var headers: [String: String] = [:]
        for field in request.headers {
            headers[field.name.canonicalName, default: ""] += headers[field.name.canonicalName] == nil ? field.value : ", " + field.value
        }
        return headers
    }

    static func response(_ response: MCP.HTTPResponse) -> Response {
        var headers = HTTPFields()
        for (name, value) in response.headers {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        let body = response.bodyData.map { ResponseBody(byteBuffer: .init(bytes: $0)) } ?? ResponseBody()
        return Response(status: .init(code: response.statusCode), headers: headers, body: body)
    }
}
