import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore

/// On the LRS routes (`/xAPI/...`): requires `X-Experience-API-Version` on every request but `/xAPI/about`,
/// and sends it on every response, errors included. Added once, for the whole router, outside the
/// tenant-parameter guard, so that its refusals carry the header too. Statements responses also always
/// carry `X-Experience-API-Consistent-Through`.
struct XAPIVersionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        guard path.hasPrefix("/xAPI/") else { return try await next(request, context) }
        if path == "/xAPI/about" {
            var response = try await next(request, context)
            response.headers[XAPIRoutes.versionHeader] = XAPIVersion.current
            return response
        }
        // Taken before the request is handled: every statement stored before it is visible to a query now.
        let receivedAt = Date()
        var version = XAPIVersion.current
        var response: Response
        do {
            version = try XAPIVersion.negotiate(request.headers[XAPIRoutes.versionHeader])
            response = try await next(request, context)
        } catch {
            response = try ErrorMiddleware<Context>.response(for: error, request: request, context: context)
        }
        response.headers[XAPIRoutes.versionHeader] = version
        // Every statements response carries it, refusals included (XAPI-00153): clients poll on it.
        if path.hasPrefix("/xAPI/statements"), response.headers[XAPIRoutes.consistentThroughHeader] == nil {
            response.headers[XAPIRoutes.consistentThroughHeader] = ISO8601Timestamp.format(receivedAt)
        }
        return response
    }
}
