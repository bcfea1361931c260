import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct ISO8601TimestampTests {
    @Test func parsesMicrosecondsAndOffsets() throws {
        let utc = try #require(ISO8601Timestamp.parse("2021-11-29T23:09:00.867219+00:00"))
        #expect(abs(utc.timeIntervalSince1970 - 1_638_227_340.867219) < 0.000_01)
        let shifted = try #require(ISO8601Timestamp.parse("2021-11-30T01:09:00.867219+02:00"))
        #expect(abs(shifted.timeIntervalSince(utc)) < 0.000_01)
        #expect(ISO8601Timestamp.parse("2021-11-29T23:09:00Z")?.timeIntervalSince1970 == 1_638_227_340)
        #expect(ISO8601Timestamp.parse("2021-11-29T18:09:00-0500")?.timeIntervalSince1970 == 1_638_227_340)
    }

    @Test(arguments: ["2021-11-29T23:09:00", "2021-11-29", "2021-02-30T00:00:00Z", "2021-11-29T24:00:00Z", "not a date", "2021-11-29T23:09:00.Z"])
    func refusesIncompleteOrImpossibleTimes(_ text: String) {
        #expect(ISO8601Timestamp.parse(text) == nil)
    }

    @Test func formatsInUTCWithMilliseconds() {
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: 1_638_227_340.867)) == "2021-11-29T23:09:00.867Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: -1)) == "1969-12-31T23:59:59.000Z")
        #expect(ISO8601Timestamp.day(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29")
    }

    /// Every field is zero-padded to its width, at the ends of the range too.
    @Test func formatsEveryFieldAtItsWidth() {
        let first = Double(ISO8601Timestamp.earliestSecond)
        #expect(ISO8601Timestamp.formatMicroseconds(Date(timeIntervalSince1970: first)) == "0001-01-01T00:00:00.000000Z")
        #expect(ISO8601Timestamp.formatMicroseconds(epochMicroseconds: 1) == "1970-01-01T00:00:00.000001Z")
        #expect(ISO8601Timestamp.formatMicroseconds(epochMicroseconds: -1) == "1969-12-31T23:59:59.999999Z")
        #expect(ISO8601Timestamp.formatMicroseconds(epochMicroseconds: 253_402_300_799_999_999) == "9999-12-31T23:59:59.999999Z")
        #expect(ISO8601Timestamp.format(Date(timeIntervalSince1970: -62_000_000_000)) == "0005-04-19T09:46:40.000Z")
        #expect(ISO8601Timestamp.formatMicroseconds(epochMicroseconds: 1_638_227_340_000_500) == "2021-11-29T23:09:00.000500Z")
    }

    /// The last second of 9999 is in range, but a fraction that rounds into 10000 once taken to the
    /// microsecond (as it is formatted and stored) is refused like any later year, never made 10000-01-01.
    @Test func refusesFractionsThatRoundIntoTheYear10000() throws {
        for text in ["9999-12-31T23:59:59.9999999Z", "9999-12-31T23:59:59.99999999999999Z", "9999-12-31T22:59:59.9999999-01:00"] {
            #expect(ISO8601Timestamp.parse(text) == nil, "\(text)")
        }
        let last = try #require(ISO8601Timestamp.parse("9999-12-31T23:59:59.999Z"))
        #expect(ISO8601Timestamp.formatMicroseconds(last).hasPrefix("9999-12-31T23:59:59.99"))
        #expect(ISO8601Timestamp.parse("9999-12-31T23:59:59Z") != nil)
    }

    @Test func roundTrips() throws {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<500 {
            let millis = Double(rng.next() % 4_000_000_000_000) / 1000
            let date = Date(timeIntervalSince1970: millis)
            let parsed = try #require(ISO8601Timestamp.parse(ISO8601Timestamp.format(date)))
            #expect(abs(parsed.timeIntervalSince(date)) < 0.001)
        }
    }
}
