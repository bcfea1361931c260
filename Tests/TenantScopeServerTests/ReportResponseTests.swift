import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer

/// A report's JSON answer, written by the core JSON writer (``ReportResponse``, architecture decision 75): its cells as
/// Foundation's `JSONEncoder` writes them, and every member a client reads.
@Suite struct ReportResponseTests {
    static let cells: [ReportCell] = [
        .text("Safety \"basics\" \\ naïve ✓ </script>\n\u{01}"), .text(""), .integer(0), .integer(-42), .integer(Int.max),
        .number(1), .number(0.1667), .number(-2.5), .number(1e-05), .number(1e21), .number(123_456_789.125), .number(0), .null,
    ]

    /// The answer's text read back by the core JSON parser.
    static func parsed(_ response: ReportResponse) throws -> JSONValue {
        try JSONParser.parse(Array(response.json.jsonText.utf8))
    }

    /// The same text, but that `JSONEncoder` escapes `/` (`<\/script>`) and the core writer does not: both read back as `/`.
    @Test func cellsAreWrittenAsJSONEncoderWritesThem() throws {
        let written = JSONValue.array(Self.cells.map(\.jsonValue)).jsonText
        let encoded = String(decoding: try JSONEncoder().encode(Self.cells), as: UTF8.self)
        #expect(written == encoded.replacingOccurrences(of: "\\/", with: "/"))
        #expect(try JSONParser.parse(Array(written.utf8)) == JSONParser.parse(Array(encoded.utf8)))
    }

    @Test func aNumberJSONCannotHoldIsNull() {
        for value in [Double.nan, .infinity, -.infinity] {
            #expect(ReportCell.number(value).jsonValue == .null)
        }
    }

    @Test func aTenantAnswerHoldsItsReportScopeParametersColumnsRowsAndFreshness() throws {
        let result = try PageModelTests.result(StandardReports.completionRateByCourse, parameters: [("since", "2026-01-05")], rows: [
            ["course": .text("Safety basics"), "enrolled": .integer(4), "completed": .integer(3), "completion_rate": .number(0.75)],
        ])
        let tenant = try #require(result.scope.tenant).description
        // The course filter, not given, is left out of the parameters.
        let expected: JSONValue = [
            "report": "completion_rate_by_course", "title": "Completion rate by course",
            "scope": ["kind": "tenant", "tenant_id": .string(tenant)],
            "parameters": ["since": "2026-01-05"],
            "columns": [
                ["name": "course", "type": "text", "scope": "per_tenant", "title": "Course"],
                ["name": "enrolled", "type": "integer", "scope": "per_tenant", "title": "Enrolled"],
                ["name": "completed", "type": "integer", "scope": "per_tenant", "title": "Completed"],
                ["name": "completion_rate", "type": "number", "scope": "per_tenant", "title": "Completion rate"],
            ],
            "rows": [["Safety basics", 4, 3, .number("0.75")]],
            "freshness": ["source": "primary", "lag_seconds": 0],
        ]
        #expect(try Self.parsed(ReportResponse(result)) == expected)
    }

    @Test func aPlatformAnswerNamesItsOperatorAndTheClustersThatDidNotAnswer() throws {
        let result = try PageModelTests.platformResult(StandardReports.activeLearners, rows: [
            ["day": .text("2026-11-24"), "active_learners": .integer(3), "window_active_learners": .integer(4)],
        ], missing: [try ClusterName("eu-1")])
        let answer = try Self.parsed(ReportResponse(result))
        #expect(answer["scope"] == ["kind": "platform", "operator": "ops"])
        #expect(answer["rows"] == [["2026-11-24", 3, 4]])
        #expect(answer["clusters"] == ["answered": ["pool"], "missing": [["cluster": "eu-1", "reason": "did not answer within 10 s"]]])
    }

    @Test func aReplicasAnswerNamesTheReplicaAndItsLag() throws {
        let result = try PageModelTests.result(StandardReports.activeLearners, rows: [])
        let fromReplica = ReportResult(request: result.request, scope: result.scope, rows: [], freshness: .replica("replica-1", lagSeconds: 1.26))
        let answer = try Self.parsed(ReportResponse(fromReplica))
        #expect(answer["freshness"] == ["source": "replica", "replica": "replica-1", "lag_seconds": .number("1.3")])
        #expect(answer["rows"] == [])
    }
}
