import Hummingbird
import HummingbirdAuth
import TenantScopeCore

/// Verifies `Authorization: Bearer <jwt>` (read by hummingbird-auth) into the context's principal.
///
/// The token is verified once, for the surface its key belongs to; whether that principal may use
/// the route is ``ScopeMiddleware``'s decision, so a tenant token on a platform route is an audited
/// 403, not a 401.
struct BearerAuthenticator: AuthenticatorMiddleware {
    typealias Context = AppRequestContext

    let verifier: TokenVerifier

    func authenticate(request: Request, context: Context) async throws -> Principal? {
        guard let bearer = request.headers.bearer else { throw AuthenticationError.missing }
        return try await verifier.verify(bearer.token, logger: context.logger)
    }
}
