/// Seconds as a whole number for a header or a policy's window, rounded up and at least 1. A rate an operator set as low
/// as the database allows (any positive number) can make a wait longer than an `Int` holds (a rate of 1e-15 and a burst
/// of a million: 1e21 s), and converting that traps: it is held at `Int.max` instead.
public enum WholeSeconds {
    public static func roundedUp(_ seconds: Double, atLeast minimum: Int = 1) -> Int {
        let rounded = seconds.rounded(.up)
        guard rounded.isFinite, rounded < Double(Int.max) else { return Int.max }
        return max(minimum, Int(rounded))
    }
}
