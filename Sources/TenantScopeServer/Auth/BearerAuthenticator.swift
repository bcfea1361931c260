import Hummingbird
import TenantScopeCore

/// Verifies `Authorization: Bearer <jwt>` for one surface and stores the principal in the context.
///
/// A token of the other surface is verified too (with that surface's keys, audience and claims), so
/// that a tenant token on a platform route reaches the report helper as a tenant principal and gets an
/// audited 403, not a 401. A token valid for neither gets 401 with the route surface's reason.
struct BearerAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext

    let verifier: TokenVerifier
    let surface: TokenVerifier.Surface

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw AuthenticationError.missing }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { throw AuthenticationError.missing }
        let token = String(parts[1]).trimmingCharacters(in: .whitespaces)

        var context = context
        do {
            context.principal = try await verifier.verify(token, for: surface)
        } catch {
            let other: TokenVerifier.Surface = surface == .tenant ? .platform : .tenant
            guard let principal = try? await verifier.verify(token, for: other) else { throw error }
            context.principal = principal
        }
        return try await next(request, context)
    }
}
