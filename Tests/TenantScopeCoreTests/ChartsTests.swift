import Foundation
import Testing
@testable import TenantScopeCore

/// Each dashboard panel renders with a title, axis labels, a description and a data table, and says so
/// plainly when there is no data.
@Suite struct ChartsTests {
    @Test func aLineChartDrawsEveryPointWithAxesAndATable() {
        let html = Charts.line(id: "active", title: "Active learners", xLabel: "Day (UTC)", yLabel: "Learners",
                               points: [.init("2026-11-01", 3), .init("2026-11-02", 7), .init("2026-11-03", 0)])
        #expect(html.contains("<path class=\"series\" d=\"M"))
        #expect(html.components(separatedBy: "<circle class=\"dot\"").count - 1 == 3)
        #expect(html.contains("<title id=\"active-title\">Active learners</title>"))
        #expect(html.contains(">Day (UTC)</text>") && html.contains(">Learners</text>"))
        #expect(html.contains("<desc id=\"active-desc\">3 values of learners by day (utc), from 0 to 7.</desc>"))
        #expect(html.contains("<tr><th scope=\"row\">2026-11-02</th><td>7</td></tr>"))
        #expect(!html.contains("No data"))
        // y axis rounded up to a tidy maximum: 7 → 10.
        #expect(html.contains(">10</text>"))
    }

    @Test func barsShowPercentagesAndHistogramBuckets() {
        let rates = Charts.bars(id: "rates", title: "Completion rate by course", xLabel: "Course", yLabel: "Completion rate",
                                points: [.init("Safety", 0.5), .init("Onboarding", 1)], maximum: 1, percent: true)
        #expect(rates.components(separatedBy: "<rect class=\"bar\"").count - 1 == 2)
        #expect(rates.contains("<title>Safety: 50%</title>") && rates.contains(">100%</text>"))
        let histogram = Charts.bars(id: "ttc", title: "Time to complete", xLabel: "Days", yLabel: "Completions",
                                    points: [.init("0–7", 4), .init("7–14", 2)])
        #expect(histogram.contains(">0–7</text>") && histogram.contains("<td>4</td>"))
    }

    @Test(arguments: ["line", "bars"])
    func emptyDataSaysSoInsteadOfDrawingNothing(_ kind: String) {
        let html = kind == "line"
            ? Charts.line(id: "e", title: "Empty", xLabel: "X", yLabel: "Y", points: [])
            : Charts.bars(id: "e", title: "Empty", xLabel: "X", yLabel: "Y", points: [])
        #expect(html.contains("No data for this selection"))
        #expect(html.contains("<td colspan=\"2\">No data</td>"))
        #expect(!html.contains("class=\"series\"") && !html.contains("class=\"bar\""))
        #expect(html.contains("<title id=\"e-title\">Empty</title>"))
    }

    @Test func theCohortHeatTableShadesByValueAndHandlesNoRows() {
        let html = Charts.heatTable(id: "cohorts", title: "Cohort comparison", columns: ["Cohort", "Rate"],
                                    rows: [["2026-01", "40%"], ["2026-02", "80%"]], heat: [1: [0.4, 0.8]], summary: "s")
        #expect(html.contains("<th scope=\"row\">2026-01</th><td style=\"background:hsl(210,70%,92%)\">40%</td>"))
        #expect(html.contains("<td style=\"background:hsl(210,70%,47%);color:#fff\">80%</td>"))
        let empty = Charts.heatTable(id: "cohorts", title: "Cohort comparison", columns: ["Cohort"], rows: [], heat: [:], summary: "s")
        #expect(empty.contains("No data for this selection.") && !empty.contains("<table"))
    }

    @Test func labelsAreEscaped() {
        let html = Charts.bars(id: "x", title: "T <b>", xLabel: "X", yLabel: "Y", points: [.init("<script>alert(1)</script>", 1)])
        #expect(!html.contains("<script>") && html.contains("&lt;script&gt;") && html.contains("T &lt;b&gt;"))
    }
}

@Suite struct DashboardSessionTests {
    @Test func aSealedSessionOpensOnlyUnchangedAndUnexpired() throws {
        let signer = try DashboardSessionSigner(key: Array(repeating: 7, count: 32))
        let tenant = TenantID(UUID())
        let session = DashboardSession(principal: .tenantUser(TenantUser(subject: "u1", tenant: tenant, role: .viewer, attributes: ["region": "EU"])),
                                       expires: Date().addingTimeInterval(600))
        let sealed = signer.seal(session)
        #expect(signer.open(sealed)?.principal == session.principal)
        // Any change to the payload or the MAC, another key, or expiry: nothing opens.
        let parts = sealed.split(separator: ".")
        let other = DashboardSession(principal: .tenantUser(TenantUser(subject: "u1", tenant: TenantID(UUID()), role: .admin)),
                                     expires: Date().addingTimeInterval(600))
        let forged = String(signer.seal(other).split(separator: ".")[0]) + "." + parts[1]
        #expect(signer.open(forged) == nil)
        #expect(signer.open(String(parts[0]) + ".AAAA") == nil)
        #expect(try DashboardSessionSigner(key: Array(repeating: 8, count: 32)).open(sealed) == nil)
        #expect(signer.open(sealed, now: Date().addingTimeInterval(601)) == nil)
        #expect(throws: TenantScopeError.self) { try DashboardSessionSigner(key: [1, 2, 3]) }
    }
}
