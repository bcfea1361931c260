import Hummingbird
import TenantScopeCore

/// The context of every platform-surface handler: it exists only with a verified ``PlatformOperator``
/// and the ``PlatformScope`` the policy gave them.
public struct PlatformRequestContext: ChildRequestContext {
    public var coreContext: CoreRequestContextStorage
    public let person: PlatformOperator
    public let scope: PlatformScope

    public init(context: AppRequestContext) throws {
        guard case .platformAdmin(let person)? = context.identity, case .platform(let scope)? = context.scope
        else { throw ScopeMissing() }
        self.coreContext = context.coreContext
        self.person = person
        self.scope = scope
    }

    /// The principal, for audit entries.
    public var principal: Principal { .platformAdmin(person) }
}
