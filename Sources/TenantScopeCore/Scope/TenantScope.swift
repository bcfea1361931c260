/// One tenant's data, for one actor: what a tenant store or a tenant report runs in.
///
/// Created only by ``ScopePolicy`` (its initializer is internal), so a function that takes a
/// `TenantScope` cannot be handed a tenant id read from a request.
public struct TenantScope: Hashable, Sendable {
    /// The tenant whose rows are visible.
    public let tenant: TenantID
    /// Who acts: the token's subject, `lrs-key:KEY`, `preview:OPERATOR`, `shared-link` or `system:JOB`.
    public let actor: String
    /// The actor's signed row attributes (e.g. `region`), applied by reports that declare the filter.
    public let attributes: [String: String]

    init(tenant: TenantID, actor: String, attributes: [String: String] = [:]) {
        self.tenant = tenant
        self.actor = actor
        self.attributes = attributes
    }
}
