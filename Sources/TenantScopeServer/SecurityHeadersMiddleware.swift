import HTTPTypes
import Hummingbird

/// On every response, errors included: `X-Content-Type-Options: nosniff`, so a browser never reads a
/// JSON body (which may echo what a client sent) as HTML, and `Cache-Control: no-store` unless a route
/// chose otherwise, so no shared cache keeps one tenant's answer for another's request.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
