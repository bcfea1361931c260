/// One tenant's data, for one actor: what a tenant store or a tenant report runs in.
///
/// Created only by ``ScopePolicy`` (its initializer is internal), so a function that takes a
/// `TenantScope` cannot be handed a tenant id read from a request.
public struct TenantScope: Hashable, Sendable {
    /// The tenant whose rows are visible.
    public let tenant: TenantID
    /// Who acts: the token's subject, `lrs-key:KEY`, `preview:OPERATOR`, `shared-link` or `system:JOB`.
    public let actor: String
    /// What the actor may do in the tenant: a user's token role; previews and shared links are
    /// viewers, background work acts as admin.
    public let role: TenantUser.Role
    /// The actor's signed row attributes (e.g. `region`), applied by reports that declare the filter.
    public let attributes: [String: String]

    init(tenant: TenantID, actor: String, role: TenantUser.Role, attributes: [String: String] = [:]) {
        self.tenant = tenant
        self.actor = actor
        self.role = role
        self.attributes = attributes
    }
}
