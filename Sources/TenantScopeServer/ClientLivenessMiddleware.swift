import Hummingbird
import TenantScopePostgres

/// Lets the database layer see whether the request's client is still connected (``ClientLiveness``),
/// for every route.
struct ClientLivenessMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try await ClientLiveness.$isConnected.withValue(context.isClientConnected) {
            try await next(request, context)
        }
    }
}
