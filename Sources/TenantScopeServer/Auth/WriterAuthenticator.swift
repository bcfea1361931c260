import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// Authenticates the ingest surfaces (`/xAPI`, `/api/v1/events`): an LRS credential over HTTP Basic,
/// or a tenant bearer token. Either way the tenant comes from the credential alone.
///
/// An LRS key acts as a tenant `admin` (it may read and write its tenant's statements). A bearer token
/// keeps its role; handlers require `admin` for writes.
struct WriterAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext

    let credentials: LRSCredentials
    let verifier: TokenVerifier
    /// The realm named in `WWW-Authenticate` when credentials are missing or wrong.
    let realm: String

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization] else { throw BasicAuthenticationError("missing credentials", realm: realm) }
        var context = context
        if header.lowercased().hasPrefix("bearer ") {
            let token = String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces)
            context.principal = try await verifier.verify(token, for: .tenant)
        } else {
            guard let credential = LRSCredentialSecret.fromBasicAuthorization(header) else {
                throw BasicAuthenticationError("malformed Basic credentials", realm: realm)
            }
            guard let tenant = try await credentials.tenant(for: credential) else {
                throw BasicAuthenticationError("unknown, revoked or wrong LRS credentials", realm: realm)
            }
            context.principal = .tenantUser(TenantUser(subject: "lrs-key:\(credential.key)", tenant: tenant, role: .admin))
        }
        return try await next(request, context)
    }
}

/// 401 for Basic credentials, with a `WWW-Authenticate: Basic` challenge so HTTP clients retry with them.
struct BasicAuthenticationError: Error, HTTPResponseError {
    let reason: String
    let realm: String

    init(_ reason: String, realm: String) {
        self.reason = reason
        self.realm = realm
    }

    var status: HTTPResponse.Status { .unauthorized }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Basic realm=\"\(realm)\", charset=\"UTF-8\""
        return try ErrorBody(error: reason, status: status).response(headers: headers)
    }
}

extension TenantUser {
    /// Who wrote a statement, as its xAPI `authority` account.
    var authorityAccount: [String: String] {
        if subject.hasPrefix("lrs-key:") {
            return ["homePage": "https://tenantscope.dev/lrs-keys", "name": String(subject.dropFirst("lrs-key:".count))]
        }
        return ["homePage": "https://tenantscope.dev/users", "name": subject]
    }
}
