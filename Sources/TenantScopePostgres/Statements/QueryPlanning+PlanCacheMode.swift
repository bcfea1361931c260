import TenantScopeCore

extension QueryPlanning {
    /// PostgreSQL's `plan_cache_mode` that plans a prepared statement's, or a PL/pgSQL function's, runs this way.
    var planCacheMode: String {
        switch self {
        case .forEachRun: "force_custom_plan"
        case .oncePerConnection: "force_generic_plan"
        }
    }
}
