import Foundation
import Testing
@testable import TenantScopeCore

/// The pure rules of `verify-isolation`: what counts as a leak in an answer, how one request is judged,
/// how the OpenAPI document is read, and what the report says. Each rule has a case that must fail.
@Suite struct IsolationRulesTests {
    static let canary = "5b0e7f1c-3c1d-4a8e-9a35-0e4f0d7c2b19"
    static let tenant = "0f7a6c2e-1b3d-4e5f-8a9b-c0d1e2f3a4b5"
    static let scan = LeakScan([.init(label: "A's canary", value: canary), .init(label: "A's tenant id", value: tenant)])

    @Test func theScanFindsEachNeedleInAnyCaseAndWithoutHyphens() {
        #expect(Self.scan.found(in: "nothing here").isEmpty)
        #expect(Self.scan.found(in: "x \(Self.canary.uppercased()) y") == ["A's canary"])
        #expect(Self.scan.found(in: Self.tenant.replacingOccurrences(of: "-", with: "")) == ["A's tenant id"])
        #expect(Self.scan.found(in: "\(Self.tenant) and \(Self.canary) and \(Self.canary)") == ["A's canary", "A's tenant id"])
        #expect(Self.scan.found(in: String(Self.canary.dropLast())).isEmpty)
    }

    static func attempt(_ method: String = "GET", route: Surface? = .tenant, credential: Surface? = .tenant, victim: Bool = false,
                        names: Bool = false, mayShow: Set<String> = []) -> IsolationHTTPAttempt {
        IsolationHTTPAttempt(method: method, target: "/x", credential: "tenant B admin token", credentialSurface: credential,
                             routeSurface: route, addressesVictim: victim, namesVictimTenant: names, mayShow: mayShow)
    }

    static func judge(_ attempt: IsolationHTTPAttempt, _ status: Int, body: String = "", headers: [(String, String)] = []) -> IsolationCheck.Outcome {
        IsolationHTTPRules.judge(attempt, IsolationHTTPAnswer(status: status, headers: headers, body: body), scan: scan).outcome
    }

    @Test func answersAreJudged() {
        #expect(Self.judge(Self.attempt(), 200, body: "[]") == .passed)
        #expect(Self.judge(Self.attempt(), 403) == .refused)
        #expect(Self.judge(Self.attempt(), 500) == .finding)
        #expect(Self.judge(Self.attempt(), 200, body: "{\"title\":\"course-\(Self.canary)\"}") == .finding)
        #expect(Self.judge(Self.attempt(), 404, body: "no tenant \(Self.tenant)") == .finding, "an error naming A's tenant is a leak too")
        #expect(Self.judge(Self.attempt(), 303, headers: [("Location", "/x?t=\(Self.tenant)")]) == .finding, "headers are searched")
        // The platform sees tenant ids in aggregates, never a canary.
        let platform = Self.attempt(route: .platform, credential: .platform, mayShow: ["A's tenant id"])
        #expect(Self.judge(platform, 200, body: "{\"tenant_id\":\"\(Self.tenant)\"}") == .passed)
        #expect(Self.judge(platform, 200, body: Self.canary) == .finding)
        // Naming A's tenant must be refused with exactly 400.
        #expect(Self.judge(Self.attempt(names: true), 400) == .refused)
        #expect(Self.judge(Self.attempt(names: true), 200) == .finding)
        #expect(Self.judge(Self.attempt(names: true), 401) == .finding)
        // A's objects: refusing is right, succeeding is a finding.
        #expect(Self.judge(Self.attempt("POST", victim: true), 404) == .refused)
        #expect(Self.judge(Self.attempt("POST", victim: true), 303) == .finding)
        // Surfaces: a tenant credential is not served a platform route, nor the platform a tenant route, nor nobody either.
        #expect(Self.judge(Self.attempt(route: .platform), 200) == .finding)
        #expect(Self.judge(Self.attempt(credential: .platform), 200) == .finding)
        #expect(Self.judge(Self.attempt(credential: nil), 200) == .finding)
        #expect(Self.judge(Self.attempt(route: nil, credential: nil), 200) == .passed)
    }

    @Test func theDocumentIsReadAsTheServerDocumentsItself() {
        let document = """
            openapi: 3.1.0
            paths:
              /healthz:
                get:
                  summary: x
              /api/v1/reports/{name}:
                parameters:
                  - $ref: "#/components/parameters/reportName"
                get:
                  responses:
                    "200": {description: OK}
                delete:
                  summary: y
            components:
              schemas:
                get:
                  type: object
            """
        let operations = OpenAPIOperations.parse(document)
        #expect(operations.map(\.description) == ["GET /healthz", "GET /api/v1/reports/{name}", "DELETE /api/v1/reports/{name}"])
        #expect(operations[1].pathParameters == ["name"])
        #expect(operations[1].path(filling: ["name": "active_learners"]) == "/api/v1/reports/active_learners")
        #expect(OpenAPIOperation(method: "GET", path: "/a/{x}/b/{y}.csv").pathParameters == ["x", "y"])
    }

    @Test func theReportCountsAndNamesItsVerdict() throws {
        let checks = [
            IsolationCheck(area: .http, attempt: "GET /x", credential: "c", status: "200", outcome: .passed),
            IsolationCheck(area: .database, attempt: "SET ROLE tenantscope", credential: "r", status: "42501", outcome: .refused),
            IsolationCheck(area: .database, attempt: "reltuples", credential: "r", status: "ok", outcome: .accepted),
        ]
        var report = IsolationReport(serverURL: "http://127.0.0.1:1", startedAt: Date(timeIntervalSince1970: 0),
                                     finishedAt: Date(timeIntervalSince1970: 1), commit: nil, schemaVersion: 9,
                                     victim: nil, attacker: nil, checks: checks)
        #expect(report.summary.verdict == "isolated")
        #expect(report.summaryLine.contains("3 checks (1 HTTP requests, 2 database attempts)"))
        report.checks.append(IsolationCheck(area: .schema, attempt: "rule", credential: "owner", outcome: .error))
        #expect(report.summary.verdict == "errors")
        report.checks.append(IsolationCheck(area: .http, attempt: "GET /y", credential: "c", status: "200", outcome: .finding, detail: "leak"))
        #expect(report.summary.verdict == "findings")
        #expect(report.failures.map(\.outcome) == [.finding, .error])
        let json = try JSONParser.parse(Array(report.json.jsonText.utf8))
        #expect(json["summary"]?["outcomes"]?["finding"]?.numberValue == 1)
        #expect(json["checks"]?.arrayValue?.count == 5)
        #expect(json["commit"] == .null)
    }
}
