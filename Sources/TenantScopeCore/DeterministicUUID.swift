import Crypto
import Foundation

/// Name-based UUIDs (version-5 layout over SHA-256): the same name always gives the same UUID.
///
/// Used for demo data, so a second `serve --demo` produces the same ids and inserts nothing new.
public enum DeterministicUUID {
    public static func make(_ name: String) -> UUID {
        var bytes = Array(SHA256.hash(data: Data(name.utf8)).prefix(16))
        bytes[6] = (bytes[6] & 0x0F) | 0x50
        bytes[8] = (bytes[8] & 0x3F) | 0x80
        return UUID(uuid: (
            bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
            bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]
        ))
    }
}
