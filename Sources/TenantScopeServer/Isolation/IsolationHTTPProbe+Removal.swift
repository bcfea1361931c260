import Foundation
import TenantScopeCore
import TenantScopePostgres

extension IsolationHTTPProbe {
    /// Deletes the probe tenants through the server's own route (`DELETE /api/v1/platform/tenants/{slug}`, platform
    /// token, audited): the server removes each tenant's export files from its store with the tenant, which a deletion
    /// in the database alone left behind (probe 38: every run left the files of the jobs the walk had queued). Returns
    /// one check per tenant and the tenants it could not delete, for the caller to delete in the database.
    public func removeProbeTenants(_ probe: IsolationProbe) async -> (checks: [IsolationCheck], left: [Tenant]) {
        let client = IsolationHTTPClient(base: server, timeout: timeout)
        let result = await removeProbeTenants(probe, client: client)
        await client.shutdown()
        return result
    }

    private func removeProbeTenants(_ probe: IsolationProbe, client: IsolationHTTPClient) async -> (checks: [IsolationCheck], left: [Tenant]) {
        var checks: [IsolationCheck] = []
        var left: [Tenant] = []
        let token: String
        do {
            token = try await issuers.platform.platformToken(operator: "verify-isolation", audience: issuers.platformAudience, lifetime: .seconds(300))
        } catch {
            return ([], [probe.a.tenant, probe.b.tenant])
        }
        for tenant in [probe.a.tenant, probe.b.tenant] {
            let slug = tenant.slug.rawValue
            let attempt = "delete probe tenant \(slug) through the server"
            do {
                let answer = try await client.send(Self.request("DELETE", "/api/v1/platform/tenants/\(slug)", Credential(label: "", kind: .bearer(token)),
                                                                query: [("confirm", slug)]))
                let deleted = answer.status == 200
                checks.append(IsolationCheck(area: .cleanup, attempt: attempt, credential: "platform token", status: String(answer.status),
                                             outcome: deleted ? .passed : .error,
                                             detail: deleted ? "deleted with everything it owned, its export files included"
                                                 : "the server did not delete it (\(answer.body.prefix(200))); deleted in the database instead"))
                if !deleted { left.append(tenant) }
            } catch {
                checks.append(IsolationCheck(area: .cleanup, attempt: attempt, credential: "platform token", status: "no answer", outcome: .error,
                                             detail: "\(error); deleted in the database instead"))
                left.append(tenant)
            }
        }
        return (checks, left)
    }
}
