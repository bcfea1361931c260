import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct StatementBatchTests {
    static let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "k"])

    @Test func statementsOfOneBatchAreStoredExactlyOneMicrosecondApartInBatchOrder() throws {
        let one = #"{"actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#
        let body = "[" + Array(repeating: one, count: 2000).joined(separator: ",") + "]"
        let stored = Date(timeIntervalSince1970: 1_795_000_000.123_456)
        let batch = try StatementBatch.parse(Data(body.utf8), validator: Self.validator, stored: stored)
        let micros = batch.map { text -> Int64 in
            let date = ISO8601Timestamp.parse(text.storedText)!
            return ISO8601Timestamp.epochMicroseconds(date)
        }
        #expect(zip(micros, micros.dropFirst()).allSatisfy { $1 - $0 == 1 })
        #expect(batch[0].storedText == "2026-11-18T11:06:40.123456Z")
        #expect(batch.allSatisfy { $0.json.contains("\"stored\":\"\($0.storedText)\"") })
    }

    @Test func formattingDoesNotLoseTheLastMillisecondToFloatingPoint() {
        for text in ["2026-11-24T09:30:00.123Z", "2026-11-24T09:30:00.999Z", "2026-01-01T00:00:00.001Z"] {
            #expect(ISO8601Timestamp.format(ISO8601Timestamp.parse(text)!) == text)
        }
    }
}
