import HTTPTypes
import Hummingbird
import TenantScopeCore

/// On the page routes (``DashboardRoutes/isPage(_:)``): security headers, and errors as small HTML
/// pages instead of JSON. Added once, for the whole router, outside the tenant-parameter guard, so that
/// every refusal on a page is a page too.
struct PageMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let embedding: EmbeddingPolicy

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard DashboardRoutes.isPage(request.uri.path) else { return try await next(request, context) }
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            let json = try ErrorMiddleware<Context>.response(for: error, request: request, context: context)
            let message = switch error {
            case let error as TenantScopeError: error.message
            case let error as AuthenticationError: error.reason
            default: json.status == .internalServerError ? "internal error" : "the request could not be served"
            }
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            // A 503 (the database unavailable) or 429 says when to come back, on a page as on the API.
            headers[.retryAfter] = json.headers[.retryAfter]
            let title = json.status == .unauthorized ? "Sign-in needed" : json.status == .forbidden ? "Not allowed" : "Cannot show this page"
            response = Response(status: json.status, headers: headers, body: .init(byteBuffer: .init(string: MessagePage.View(model: .init(title: title, text: message)).render())))
        }
        response.headers[.contentSecurityPolicy] = embedding.contentSecurityPolicy
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[HTTPField.Name("Referrer-Policy")!] = "no-referrer"
        if response.headers[.cacheControl] == nil { response.headers[.cacheControl] = "no-store" }
        return response
    }
}
