import Foundation

/// Strict ISO 8601 date-time parsing and formatting, independent of locale and platform formatters.
///
/// Accepts `YYYY-MM-DDThh:mm:ss[.fraction](Z|±hh:mm|±hhmm|±hh)`, which is what xAPI timestamps use,
/// for instants in years 1 to 9999 UTC.
/// Foundation's `ISO8601DateFormatter` on Linux rejects more than three fraction digits, which real
/// LRS data (microseconds) has.
public enum ISO8601Timestamp {
    public static func parse(_ text: String) -> Date? {
        // On UTF-8 bytes: this runs for every timestamp of every ingested statement, and Character
        // properties (`wholeNumberValue`) cost a Unicode table lookup each.
        var text = text
        return text.withUTF8 { parse(bytes: $0) }
    }

    private static func parse(bytes: UnsafeBufferPointer<UInt8>) -> Date? {
        var s = Scanner(bytes: bytes)
        guard let year = s.take(digits: 4), s.expect("-"),
              let month = s.take(digits: 2), s.expect("-"),
              let day = s.take(digits: 2), s.expect("T") || s.expect("t"),
              let hour = s.take(digits: 2), s.expect(":"),
              let minute = s.take(digits: 2), s.expect(":"),
              let second = s.take(digits: 2)
        else { return nil }
        guard (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day),
              hour < 24, minute < 60, second < 61
        else { return nil }

        var fraction = 0.0
        if s.expect(".") {
            var scale = 0.1
            var count = 0
            while let d = s.digit() {
                fraction += Double(d) * scale
                scale /= 10
                count += 1
            }
            guard count > 0 else { return nil }
        }

        var offsetSeconds = 0
        if s.expect("Z") || s.expect("z") {
            offsetSeconds = 0
        } else if s.peek("+") || s.peek("-") {
            let negative = s.expect("-")
            if !negative { _ = s.expect("+") }
            guard let oh = s.take(digits: 2), oh < 24 else { return nil }
            var om = 0
            if s.expect(":") {
                guard let m = s.take(digits: 2) else { return nil }
                om = m
            } else if let m = s.take(digits: 2) {
                om = m
            }
            guard om < 60 else { return nil }
            offsetSeconds = (oh * 3600 + om * 60) * (negative ? -1 : 1)
        } else {
            return nil  // xAPI requires a time zone; refusing local times avoids guessing one.
        }
        guard s.atEnd else { return nil }

        let days = daysFromCivil(year: year, month: month, day: day)
        let whole = days * 86_400 + hour * 3600 + minute * 60 + min(second, 59) - offsetSeconds
        // Years 1 to 9999 once in UTC, as PostgreSQL stores and prints them: `0000-...` or
        // `0001-01-01T00:00:00+01:00` (year 0 in UTC) would reach the database and fail there.
        guard whole >= Self.earliestSecond, whole < Self.endSecond else { return nil }
        let date = Date(timeIntervalSince1970: Double(whole) + fraction)
        // The fraction can carry the last second of 9999 into 10000 once rounded to the microsecond, as it
        // is formatted and stored (`23:59:59.9999999Z`, or fewer nines lost to a Double's precision there).
        guard epochMicroseconds(date) < Int64(Self.endSecond) * 1_000_000 else { return nil }
        return date
    }

    /// The first second of year 1 and the first of year 10000, UTC, in seconds since 1970.
    static let earliestSecond = daysFromCivil(year: 1, month: 1, day: 1) * 86_400
    static let endSecond = daysFromCivil(year: 10_000, month: 1, day: 1) * 86_400

    private struct Scanner {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        var atEnd: Bool { index == bytes.count }

        func peek(_ character: Unicode.Scalar) -> Bool {
            index < bytes.count && bytes[index] == UInt8(ascii: character)
        }

        mutating func expect(_ character: Unicode.Scalar) -> Bool {
            guard peek(character) else { return false }
            index += 1
            return true
        }

        mutating func digit() -> Int? {
            guard index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) else { return nil }
            defer { index += 1 }
            return Int(bytes[index] - UInt8(ascii: "0"))
        }

        mutating func take(digits: Int) -> Int? {
            let start = index
            var value = 0
            for _ in 0..<digits {
                guard let d = digit() else {
                    index = start
                    return nil
                }
                value = value * 10 + d
            }
            return value
        }
    }

    /// Formats in UTC with millisecond precision: `2026-11-24T09:30:00.123Z`.
    public static func format(_ date: Date) -> String {
        format(date, fractionDigits: 3)
    }

    /// Formats in UTC with microsecond precision (PostgreSQL's): `2026-11-24T09:30:00.123456Z`.
    public static func formatMicroseconds(_ date: Date) -> String {
        format(date, fractionDigits: 6)
    }

    /// Microseconds since 1970, rounded: exact integers for arithmetic a `Date` cannot hold exactly.
    public static func epochMicroseconds(_ date: Date) -> Int64 {
        Int64((date.timeIntervalSince1970 * 1_000_000).rounded())
    }

    /// Formats exact microseconds since 1970 in UTC: `2026-11-24T09:30:00.123456Z`.
    public static func formatMicroseconds(epochMicroseconds: Int64) -> String {
        format(totalMicros: epochMicroseconds, fractionDigits: 6)
    }

    private static func format(_ date: Date, fractionDigits: Int) -> String {
        // Round to the microsecond first: a parsed `.123` is stored as 0.12299999… in a Double and
        // must not print as `.122`. Then truncate to the requested precision.
        format(totalMicros: epochMicroseconds(date), fractionDigits: fractionDigits)
    }

    private static func format(totalMicros: Int64, fractionDigits: Int) -> String {
        let unit: Int64 = fractionDigits == 3 ? 1000 : 1
        let totalUnits = floorDiv(totalMicros, unit)
        let perSecond = 1_000_000 / unit
        let fraction = Int(totalUnits - floorDiv(totalUnits, perSecond) * perSecond)
        let totalSeconds = floorDiv(totalUnits, perSecond)
        let days = Int(floorDiv(totalSeconds, 86_400))
        let secondOfDay = Int(totalSeconds - Int64(days) * 86_400)
        let (y, m, d) = civilFromDays(days)
        // By hand rather than String(format:), which goes through CFString and a locale on every call; into bytes,
        // as several timestamps of every ingested statement are written here.
        var bytes: [UInt8] = []
        bytes.reserveCapacity(32)
        func pad(_ value: Int, _ width: Int) {
            if value < 0 { bytes.append(UInt8(ascii: "-")) }
            let magnitude = value.magnitude
            var divisor: UInt = 1
            var digits = 1
            while magnitude / divisor >= 10 {
                divisor *= 10
                digits += 1
            }
            for _ in digits..<max(width, digits) { bytes.append(UInt8(ascii: "0")) }
            while divisor > 0 {
                bytes.append(UInt8(ascii: "0") + UInt8(magnitude / divisor % 10))
                divisor /= 10
            }
        }
        pad(y, 4); bytes.append(UInt8(ascii: "-")); pad(m, 2); bytes.append(UInt8(ascii: "-")); pad(d, 2); bytes.append(UInt8(ascii: "T"))
        pad(secondOfDay / 3600, 2); bytes.append(UInt8(ascii: ":")); pad(secondOfDay / 60 % 60, 2); bytes.append(UInt8(ascii: ":"))
        pad(secondOfDay % 60, 2)
        bytes.append(UInt8(ascii: ".")); pad(fraction, fractionDigits); bytes.append(UInt8(ascii: "Z"))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The UTC calendar day (`2026-11-24`) a date falls on.
    public static func day(_ date: Date) -> String {
        String(format(date).prefix(10))
    }

    private static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    private static func floorDiv(_ a: Int64, _ b: Int64) -> Int64 {
        a >= 0 ? a / b : -((-a + b - 1) / b)
    }

    // Howard Hinnant's days-from-civil algorithms (proleptic Gregorian calendar).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let mp = (month + 9) % 12
        let doy = (153 * mp + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146_097 + doe - 719_468
    }

    /// The (year, month, day) of a day number counted from 1970-01-01.
    public static func civilFromDays(_ days: Int) -> (Int, Int, Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        return (yoe + era * 400 + (m <= 2 ? 1 : 0), m, d)
    }
}
