import TenantScopeCore

extension TenantUser {
    /// Who wrote a statement, as its xAPI `authority` account.
    var authorityAccount: [String: String] {
        if subject.hasPrefix("lrs-key:") {
            return ["homePage": "https://tenantscope.dev/lrs-keys", "name": String(subject.dropFirst("lrs-key:".count))]
        }
        return ["homePage": "https://tenantscope.dev/users", "name": subject]
    }
}
