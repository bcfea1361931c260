import Hummingbird
import TenantScopeCore

/// Applies ``AlternateRequestSyntax`` in front of the router (Hummingbird matches the route before any
/// router middleware runs, so a rewrite there would be too late).
struct AlternateRequestSyntaxResponder<Wrapped: HTTPResponder>: HTTPResponder where Wrapped.Context == AppRequestContext {
    typealias Context = AppRequestContext

    let wrapped: Wrapped
    let maximumBodyBytes: Int

    func respond(to request: Request, context: Context) async throws -> Response {
        let rewritten: Request?
        do {
            rewritten = try await AlternateRequestSyntax.rewrite(request, maximumBodyBytes: maximumBodyBytes)
        } catch {
            // Refused outside the router's middleware: the refusal gets their headers here.
            var response = try ErrorMiddleware<Context>.response(for: error, request: request, context: context)
            response.headers[XAPIRoutes.versionHeader] = XAPIVersion.current
            response.headers[.xContentTypeOptions] = "nosniff"
            response.headers[.cacheControl] = "no-store"
            return response
        }
        guard let rewritten else { return try await wrapped.respond(to: request, context: context) }
        var response = try await wrapped.respond(to: rewritten, context: context)
        if rewritten.method == .head {
            // A HEAD's answer names the length of the body it leaves out; this answer goes to a POST, whose body is
            // read by that length: announce the empty body it has, or the client waits for bytes that never come and
            // reads the next answer on the connection as this one's.
            response.headers[.contentLength] = "0"
        }
        return response
    }
}
