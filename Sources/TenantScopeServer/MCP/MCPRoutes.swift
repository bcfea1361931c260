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

    func register(on router: Router<AppRequestContext>) {
        let group = router.tenantRoutes("mcp", authenticator: authenticator, purpose: "MCP", audit: audit, limits: limits, work: .queries)
        group.post { request, context in
            let body = try await RequestBody.collect(request, limit: Self.maximumBodyBytes)
            let server = await tools.server(for: context.scope, logger: context.logger)
            // The bearer token is the whole credential; DNS rebinding needs an ambient one (a cookie), so the
            // SDK's localhost-only Host/Origin check, meant for unauthenticated local servers, is left out.
            let transport = StatelessHTTPServerTransport(validationPipeline: StandardValidationPipeline(validators: [
                AcceptHeaderValidator(mode: .jsonOnly), ContentTypeValidator(), ProtocolVersionValidator(),
            ]))
            try await server.start(transport: transport)
            let response = await transport.handleRequest(MCP.HTTPRequest(
                method: "POST", headers: Self.headers(of: request), body: body, path: "/mcp"))
            await server.stop()
            return Self.response(response)
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
