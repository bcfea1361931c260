import Hummingbird
import HummingbirdAuth
import TenantScopeCore

/// The router's request context: Hummingbird's core storage, the verified principal once an
/// authenticator has set it, and the data scope once ``ScopeMiddleware`` has decided it.
///
/// Handlers never read it directly: they run in a ``TenantRequestContext`` or ``PlatformRequestContext``,
/// which cannot be built without a principal and a scope of the right kind.
public struct AppRequestContext: AuthRequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Set only by an authenticator (bearer token, LRS credential, dashboard session), from a verified credential.
    public var identity: Principal?
    /// Set only by ``SessionAuthenticator``, from a verified session cookie.
    public internal(set) var dashboardSession: DashboardSession?
    /// Set only by ``ScopeMiddleware``, from ``ScopePolicy``.
    public internal(set) var scope: DataScope?
    /// Whether the request's connection is still open (``ClientLiveness``).
    public let isClientConnected: @Sendable () -> Bool

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        let channel = source.channel
        // Gone means a connection that was open when the request arrived has closed since. A channel
        // that was never active (HummingbirdTesting's in-process router channel) has no client to lose:
        // without this, every database request of the router tests was refused as abandoned (499).
        let arrivedActive = channel.isActive
        self.isClientConnected = { !arrivedActive || channel.isActive }
        self.identity = nil
        self.dashboardSession = nil
        self.scope = nil
    }
}
