import Hummingbird
import TenantScopeCore

/// The request context: Hummingbird's core storage plus the verified principal, once authenticated.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set only by ``BearerAuthenticator`` from a verified token; nothing else writes it.
    public internal(set) var principal: Principal?
    /// Set only by the dashboard session authenticator, from a verified session cookie.
    public internal(set) var dashboardSession: DashboardSession?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.principal = nil
        self.dashboardSession = nil
    }

    /// The verified principal; a route behind the authenticator always has one.
    func requirePrincipal() throws -> Principal {
        guard let principal else { throw AuthenticationError.missing }
        return principal
    }
}
