import Hummingbird
import TenantScopeCore

/// Reads the dashboard session cookie (through Hummingbird's `request.cookies`) into the principal;
/// no valid session is a 401. A session also ends when its embed token is revoked, its tenant deleted
/// or an operator revokes the tenant's (or the subject's) sessions (`tenantscope session revoke`).
struct SessionAuthenticator: RouterMiddleware {
    typealias Context = AppRequestContext
    static let cookieName = "ts_session"

    let signer: DashboardSessionSigner
    let status: any CredentialStatus

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let value = request.cookies[Self.cookieName]?.value, let session = signer.open(value), let principal = session.principal else {
            throw AuthenticationError("no dashboard session: open the dashboard through your platform's embed link")
        }
        if try await status.refusal(session: session, logger: context.logger) != nil {
            throw AuthenticationError("this dashboard session has ended: open the dashboard again through your platform's embed link")
        }
        var context = context
        context.identity = principal
        context.dashboardSession = session
        return try await next(request, context)
    }
}
