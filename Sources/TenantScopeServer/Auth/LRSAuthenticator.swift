import Hummingbird
import HummingbirdAuth
import TenantScopeCore
import TenantScopePostgres

/// Authenticates the ingest surfaces (`/xAPI`, `/api/v1/events`): an LRS credential over HTTP Basic,
/// or a tenant bearer token (both headers read by hummingbird-auth). Either way the tenant comes from
/// the credential alone.
///
/// An LRS key acts as a tenant `admin` (it may read and write its tenant's statements). A bearer token
/// keeps its role; handlers require `admin` for writes.
struct LRSAuthenticator: AuthenticatorMiddleware {
    typealias Context = AppRequestContext

    let credentials: LRSCredentialCache
    let verifier: TokenVerifier
    /// The realm named in `WWW-Authenticate` when credentials are missing or wrong.
    let realm: String

    func authenticate(request: Request, context: Context) async throws -> Principal? {
        if let bearer = request.headers.bearer {
            return try await verifier.verify(bearer.token, logger: context.logger)
        }
        guard request.headers[.authorization] != nil else { throw BasicAuthenticationError("missing credentials", realm: realm) }
        guard let basic = request.headers.basic else { throw BasicAuthenticationError("malformed Basic credentials", realm: realm) }
        let credential = LRSCredentialSecret(key: basic.username, secret: basic.password)
        guard let tenant = try await credentials.tenant(for: credential, logger: context.logger) else {
            throw BasicAuthenticationError("unknown, revoked or wrong LRS credentials", realm: realm)
        }
        return .tenantUser(TenantUser(subject: "lrs-key:\(credential.key)", tenant: tenant, role: .admin))
    }
}
