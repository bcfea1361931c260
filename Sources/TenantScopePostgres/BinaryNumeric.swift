import NIOCore

/// PostgreSQL's `numeric` in its binary form, read as a `Double` without PostgresNIO's `Decimal` decoding, which traps
/// on a value `Decimal` cannot hold (`1e200`) and reads NaN and the infinities as 0.
///
/// The form: the number of base-10000 digits, the first digit's weight (a power of 10000), the sign (0x0000, 0x4000
/// negative; 0xC000 NaN, 0xD000 +Infinity, 0xF000 -Infinity), the display scale, then the digits.
enum BinaryNumeric {
    /// The value, nil for NaN and the infinities; a finite value beyond a `Double`'s range is an infinite `Double`.
    static func double(_ bytes: ByteBuffer) -> Double? {
        var buffer = bytes
        guard let count = buffer.readInteger(endianness: .big, as: Int16.self), count >= 0,
              let weight = buffer.readInteger(endianness: .big, as: Int16.self),
              let sign = buffer.readInteger(endianness: .big, as: UInt16.self), sign == 0x0000 || sign == 0x4000,
              buffer.readInteger(endianness: .big, as: Int16.self) != nil
        else { return nil }
        var digits = ""
        digits.reserveCapacity(Int(count) * 4)
        for _ in 0..<count {
            guard let digit = buffer.readInteger(endianness: .big, as: Int16.self), (0..<10_000).contains(digit) else { return nil }
            let text = String(digit)
            digits += String(repeating: "0", count: 4 - text.count) + text
        }
        guard !digits.isEmpty else { return 0 }
        // The digits are the value's base-10000 digits from weight down: as an integer, scaled by 10^(4 × (weight + 1 - count)).
        guard let magnitude = Double(digits + "e" + String(4 * (Int(weight) + 1 - Int(count)))) else { return nil }
        return sign == 0x4000 ? -magnitude : magnitude
    }
}
