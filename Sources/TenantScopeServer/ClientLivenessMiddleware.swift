import Hummingbird
import TenantScopePostgres

/// Lets the database layer see whether the request's client is still connected (``ClientLiveness``),
/// for every route.
struct ClientLivenessMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        // Bound to a local first: the value lives in this frame for the whole scope (see ClientLiveness).
        let liveness = ClientLiveness(context.isClientConnected)
        return try await ClientLiveness.$current.withValue(liveness) {
            try await next(request, context)
        }
    }
}
