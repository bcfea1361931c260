import Crypto
import Foundation

/// A small deterministic random number generator (SplitMix64) for reproducible demo data.
///
/// Swift's `Hasher` and `SystemRandomNumberGenerator` are seeded per process, so they cannot
/// reproduce a dataset; this generator is seeded from a stable SHA-256 of a name.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) {
        self.state = seed
    }

    public init(name: String) {
        let digest = Array(SHA256.hash(data: Data(name.utf8)))
        self.state = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform value in `0..<1`.
    public mutating func unit() -> Double {
        Double(next() >> 11) / Double(1 << 53)
    }

    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool {
        unit() < p
    }
}
