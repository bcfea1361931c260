import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Random (version-4) UUIDs from the system's random generator.
///
/// Foundation's `UUID()` on Linux opens, reads and closes `/dev/urandom` for every UUID: three system calls and a path
/// lookup, about 4 % of the server's CPU when a batch of statements without ids is stored (each needs one). The system
/// generator (`getrandom`) is as unpredictable and costs one call per 8 bytes; ``Buffered`` (a batch's ids) one call per
/// 16 UUIDs.
public enum RandomUUID {
    public static func make() -> UUID {
        var generator = SystemRandomNumberGenerator()
        return make(using: &generator)
    }

    /// A version-4 UUID from `generator`'s next 16 bytes, with the version and variant bits set (RFC 9562 §5.4).
    public static func make(using generator: inout some RandomNumberGenerator) -> UUID {
        var bytes = withUnsafeBytes(of: (generator.next() as UInt64, generator.next() as UInt64)) { Array($0) }
        bytes[6] = (bytes[6] & 0x0F) | 0x40
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }

    /// The system's random bytes, read 256 at a time:
    /// for a batch that needs many UUIDs, one system call per 16 of them instead of two for each.
    public struct Buffered: RandomNumberGenerator {
        private var words: [UInt64] = []
        private var position = 0

        public init() {}

        public mutating func next() -> UInt64 {
            if position == words.count { refill() }
            defer { position += 1 }
            return words[position]
        }

        private mutating func refill() {
            words = [UInt64](repeating: 0, count: 32)
            position = 0
            // glibc's arc4random_buf reads getrandom's bytes, as SystemRandomNumberGenerator does, in one call.
            words.withUnsafeMutableBytes { arc4random_buf($0.baseAddress!, $0.count) }
        }
    }
}
