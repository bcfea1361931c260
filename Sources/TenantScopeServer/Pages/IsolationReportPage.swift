import Foundation
import Plot
import TenantScopeCore

/// `isolation-report.html`: the report of `tenantscope verify-isolation` for an auditor. The verdict and
/// counts first, then what failed (findings, then checks that could not run), then every check grouped
/// by area: what was tried, with which credential, the answer and the outcome.
///
/// Built with Plot like the dashboard pages: text is escaped by Plot, and every attribute whose value is
/// not a literal goes through `attr` (Node+EscapedAttribute.swift), so a hostile value in a response or
/// a slug cannot become markup.
public enum IsolationReportPage {
    public static func render(_ report: IsolationReport) -> String {
        let summary = report.summary
        let verdict: String = switch summary.verdict {
        case "findings": "Isolation findings: \(summary.findings) check\(summary.findings == 1 ? "" : "s") found a way across tenants"
        case "errors": "No finding, but \(summary.errors) check\(summary.errors == 1 ? "" : "s") could not run: the run proves less than it should"
        default: "No finding: nothing of tenant A reached tenant B"
        }
        var content: [Node<HTML.BodyContext>] = [
            .section(
                .class("panel"), .attr("aria-label", "Summary"),
                .h2(.text(verdict)),
                .p(.class("note"), .text(report.summaryLine)),
                .table(
                    .tbody(
                        row("Server", report.serverURL),
                        row("Started", ISO8601Timestamp.format(report.startedAt)),
                        row("Finished", ISO8601Timestamp.format(report.finishedAt)),
                        row("Schema version", report.schemaVersion.map(String.init) ?? "unknown"),
                        row("Commit", report.commit ?? "unknown (not run from a git checkout)"),
                        row("Victim tenant A", report.victim.map { "\($0.slug) (\($0.tenantID)), canary \($0.canary)" } ?? "not created"),
                        row("Attacker tenant B", report.attacker.map { "\($0.slug) (\($0.tenantID)), canary \($0.canary)" } ?? "not created")
                    )
                ),
                .table(
                    .thead(.tr(.forEach(IsolationCheck.Outcome.allCases) { .th(.text($0.rawValue)) })),
                    .tbody(.tr(.forEach(IsolationCheck.Outcome.allCases) { .td(.text(String(summary.count($0)))) }))
                ),
                .p(.class("note"), .text(
                    "passed: it ran and nothing of A came back. refused: the server or the database said no. accepted: whole-table volumes, "
                        + "documented in docs/security.md. finding: A's canary or tenant id came back, a refusal did not happen, or the server "
                        + "failed. error: the check could not run, so it proves nothing."))
            ),
        ]
        let failures = report.failures
        if !failures.isEmpty {
            content.append(.section(.class("panel"), .attr("aria-label", "Failures"), .h2(.text("What failed")), table(failures)))
        }
        for area in IsolationCheck.Area.allCases {
            let checks = report.checks.filter { $0.area == area }
            guard !checks.isEmpty else { continue }
            content.append(.section(
                .class("panel"), .attr("aria-label", title(area)),
                .h2(.text("\(title(area)) (\(checks.count))")),
                .p(.class("note"), .text(explanation(area))),
                .div(.class("table-scroll"), table(checks))
            ))
        }
        return PageLayout(
            title: "Tenant isolation report",
            subtitle: "\(report.serverURL), \(ISO8601Timestamp.format(report.finishedAt))",
            content: content,
            footer: "Written by tenantscope verify-isolation. The probe tenants were deleted after the run; their canaries appear nowhere else, so grep logs and exports for them."
        ).render()
    }

    static func row(_ name: String, _ value: String) -> Node<HTML.TableContext> {
        .tr(.th(.attr("scope", "row"), .text(name)), .td(.text(value)))
    }

    static func table(_ checks: [IsolationCheck]) -> Node<HTML.BodyContext> {
        .table(
            .thead(.tr(.th(.text("Outcome")), .th(.text("Tried")), .th(.text("As")), .th(.text("Answer")), .th(.text("Why")))),
            .tbody(.forEach(checks) { check in
                .tr(
                    .attr("class", "outcome-\(check.outcome.rawValue)"),
                    .td(.strong(.text(check.outcome.rawValue))),
                    .td(.code(.text(check.attempt))),
                    .td(.text(check.credential)),
                    .td(.text(check.status)),
                    .td(.text(check.detail))
                )
            })
        )
    }

    static func title(_ area: IsolationCheck.Area) -> String {
        switch area {
        case .schema: "Schema rules"
        case .control: "Controls"
        case .http: "Every route with every credential of tenant B"
        case .database: "Database escapes"
        case .cleanup: "Clean-up"
        }
    }

    static func explanation(_ area: IsolationCheck.Area) -> String {
        switch area {
        case .schema: "SchemaAudit and the cluster hardening, read from the catalog as the owner: every problem is a finding."
        case .control: "Positive controls: the probe's data is where the checks look, and the server accepts the probe's credentials, so a check that finds nothing means something."
        case .http: "Each operation of the server's OpenAPI document, called as tenant B with each of B's credentials (and a platform token on GET and HEAD), with A's identifiers in the path and query; every body and header searched for A's canary and tenant id."
        case .database: "Each escape of docs/security.md, tried as the tenant role in B's signed scope, the platform role and the server's login role, in transactions that are rolled back."
        case .cleanup: "The probe tenants are deleted with everything they own, also when a step failed."
        }
    }
}
