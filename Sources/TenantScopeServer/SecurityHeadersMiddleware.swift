import HTTPTypes
import Hummingbird

/// On every response, errors included: `X-Content-Type-Options: nosniff`, so a browser never reads a
/// JSON body (which may echo what a client sent) as HTML, and `Cache-Control: no-store` unless a route
/// chose otherwise, so no shared cache keeps one tenant's answer for another's request.
///
/// And, on every response that is not one of our pages (which set their own policy), a
/// `Content-Security-Policy` that lets nothing run: an xAPI document or attachment is whatever bytes and
/// content type its writer sent, `text/html` or `image/svg+xml` included, and the Alternate Request Syntax
/// lets a form on any site open one as a top-level page on this origin, beside the dashboards and their
/// session cookie (probe 38). `sandbox` gives such a page an origin of its own and no scripts; `default-src
/// 'none'` loads nothing; `frame-ancestors 'none'` frames it nowhere.
struct SecurityHeadersMiddleware<Context: RequestContext>: RouterMiddleware {
    static var inertContentPolicy: String { "default-src 'none'; sandbox; frame-ancestors 'none'; base-uri 'none'; form-action 'none'" }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response = try await next(request, context)
        response.headers[.xContentTypeOptions] = "nosniff"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        if response.headers[.contentSecurityPolicy] == nil { response.headers[.contentSecurityPolicy] = Self.inertContentPolicy }
        return response
    }
}
