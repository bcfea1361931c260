import Foundation
import TenantScopeCore

extension IsolationHTTPProbe {
    /// The platform acting for A on A's export route (which it may use, audited) asks for every kind of export whose rows
    /// name learners: A's raw statements, one of A's learners (which would also tell it the address is a learner there),
    /// A's custom report and each learner-level catalog report. The platform sees aggregates, never learners: each must
    /// be refused with 403, and a 2xx (a job queued) is a finding. These are the probe's own tenants, so a job queued by
    /// a failure exports nothing but the probe's data.
    func platformLearnerExports(_ context: Context, client: IsolationHTTPClient, platform: String) async -> [IsolationCheck] {
        let credential = Credential(label: "platform token", kind: .bearer(platform), surface: .platform, isPlatform: true)
        let path = "/api/v1/platform/tenants/\(context.a.tenant.slug.rawValue)/exports"
        let customReport = "probe_" + context.a.canary.replacingOccurrences(of: "-", with: "_")
        var bodies: [(shown: String, body: JSONValue)] = [
            ("statements", ["statements": .object([:])]),
            ("A's learner", ["learner": ["mbox": .string(context.a.learnerMbox)]]),
            ("A's custom report", ["custom_report": .string(customReport)]),
        ]
        for report in ExportSource.learnerLevelReports.sorted() {
            bodies.append(("report \(report)", ["report": .string(report), "parameters": ["course": .string(context.a.courseIRI)]]))
        }
        var checks: [IsolationCheck] = []
        for (shown, body) in bodies {
            let attempt = "POST /api/v1/platform/tenants/<A's slug>/exports {\(shown)}"
            do {
                let answer = try await client.send(Self.request("POST", path, credential, body: .json(body)))
                let (outcome, detail): (IsolationCheck.Outcome, String) = switch answer.status {
                case 403: (.refused, "refused: the platform exports nothing that names learners")
                case 200..<300: (.finding, "the platform queued an export whose rows name A's learners")
                case 500...: (.finding, "server error \(answer.status)")
                default: (.error, "expected 403, got \(answer.status): \(answer.body.prefix(200))")
                }
                checks.append(IsolationCheck(area: .http, attempt: attempt, credential: credential.label, status: String(answer.status),
                                             outcome: outcome, detail: detail))
            } catch {
                checks.append(IsolationCheck(area: .http, attempt: attempt, credential: credential.label, status: "no answer",
                                             outcome: .error, detail: "\(error)"))
            }
        }
        return checks
    }
}
