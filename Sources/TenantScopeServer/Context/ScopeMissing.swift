import Hummingbird

/// A route group built without its authenticator or ``ScopeMiddleware``: a programming error, refused
/// as 401 rather than served without a scope.
struct ScopeMissing: Error, HTTPResponseError {
    var status: HTTPResponse.Status { .unauthorized }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        context.logger.error("A scoped route ran without a decided scope; check its route group")
        return try ErrorBody(error: "missing credentials", status: status).response()
    }
}
