import Foundation
import TenantScopeCore
import TenantScopePostgres

extension IsolationHTTPProbe {
    /// Ad-hoc SQL and AI agents as B's admin: every semantic view read whole, the escapes of the attack
    /// table, the MCP `run_sql` tool, and A's custom report by name. A's canary must appear nowhere, no
    /// request may fail with a 5xx, and A's report must not run for B.
    func adHocSQL(_ context: Context, client: IsolationHTTPClient, bAdmin: String) async -> [IsolationCheck] {
        let credential = Credential(label: "tenant B admin token", kind: .bearer(bAdmin), surface: .tenant)
        let queries = SemanticLayer.views.map { "SELECT * FROM semantic.\($0.name)" } + [
            "SELECT object_id FROM statements WHERE true OR 1 = 1",
            "SELECT set_config('app.tenant_ctx', '', true)",
            "SELECT * FROM app.statements",
            "SELECT query_to_xml('SELECT * FROM app.courses', true, true, '')",
            "SET ROLE tenantscope_tenant",
            "SELECT * FROM pg_stat_activity",
        ]
        var checks: [IsolationCheck] = []
        func send(_ method: String, _ path: String, _ shown: String, _ body: JSONValue?, addressesVictim: Bool = false) async {
            var request = Self.request(method, path, credential, body: body.map { .json($0) } ?? .none)
            if path == "/mcp" { request.headers.append(("Accept", "application/json, text/event-stream")) }
            let attempt = IsolationHTTPAttempt(method: method, target: shown, credential: credential.label, credentialSurface: .tenant,
                                               routeSurface: .tenant, addressesVictim: addressesVictim)
            do {
                checks.append(IsolationHTTPRules.judge(attempt, try await client.send(request), scan: context.scan))
            } catch {
                checks.append(IsolationCheck(area: .http, attempt: "\(method) \(shown)", credential: credential.label, status: "no answer",
                                             outcome: .error, detail: "\(error)"))
            }
        }
        for sql in queries {
            await send("POST", "/api/v1/sql", "/api/v1/sql {\"sql\": \"\(sql)\"}", ["sql": .string(sql)])
            await send("POST", "/mcp", "/mcp tools/call run_sql \"\(sql)\"", [
                "jsonrpc": "2.0", "id": 1, "method": "tools/call",
                "params": ["name": "run_sql", "arguments": ["sql": .string(sql)]],
            ])
        }
        let name = "probe_" + context.a.canary.replacingOccurrences(of: "-", with: "_")
        for (method, suffix) in [("GET", ""), ("POST", "/preview"), ("POST", "/approve")] {
            await send(method, "/api/v1/custom-reports/\(name)\(suffix)", "/api/v1/custom-reports/<A's report>\(suffix)", nil, addressesVictim: true)
        }
        return checks
    }
}
