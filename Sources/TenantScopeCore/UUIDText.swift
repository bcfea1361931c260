import Foundation

/// The 36-character text form of a UUID (`8-4-4-4-12` hex digits), read and written on UTF-8 bytes.
///
/// Foundation's `UUID(uuidString:)` and `uuidString` on Linux go through `sscanf` and `snprintf`; ingest reads and
/// writes several UUIDs per statement (its id, a registration, a voided statement's id, the ids it answers with), where
/// those two were about 3 % of the server's CPU. The grammar: hex digits of either case, dashes at offsets 8, 13, 18
/// and 23, nothing else. Foundation's is the same but for the white space its `sscanf` skips before the first digit.
/// Every UUID the server is sent is read with this one: the LRS's statement ids and its `statementId`,
/// `voidedStatementId` and `registration` parameters, the saved-view, shared-link, export and schedule ids of routes,
/// the ids inside signed links, tenant ids, and the CLI's export ids.
public enum UUIDText {
    /// The UUID `text` spells; nil for anything that is not exactly the 36-character form.
    public static func parse(_ text: some StringProtocol) -> UUID? {
        let utf8 = text.utf8
        guard utf8.count == 36 else { return nil }
        var bytes: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                    UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let valid = withUnsafeMutableBytes(of: &bytes) { out -> Bool in
            var written = 0
            var high: UInt8? = nil
            for (offset, character) in utf8.enumerated() {
                if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                    guard character == UInt8(ascii: "-") else { return false }
                    continue
                }
                guard let nibble = Hex.nibble(character) else { return false }
                if let first = high {
                    out[written] = first << 4 | nibble
                    written += 1
                    high = nil
                } else {
                    high = nibble
                }
            }
            return written == 16
        }
        return valid ? UUID(uuid: bytes) : nil
    }

    /// `uuid` in lower case, as xAPI examples and PostgreSQL write it: `f81d4fae-7dec-11d0-a765-00a0c91e6bf6`.
    public static func lowercase(_ uuid: UUID) -> String {
        withUnsafeBytes(of: uuid.uuid) { raw in
            String(unsafeUninitializedCapacity: 36) { out in
                var position = 0
                for (index, byte) in raw.enumerated() {
                    if index == 4 || index == 6 || index == 8 || index == 10 {
                        out[position] = UInt8(ascii: "-")
                        position += 1
                    }
                    out[position] = digits[Int(byte >> 4)]
                    out[position + 1] = digits[Int(byte & 0x0F)]
                    position += 2
                }
                return position
            }
        }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)
}
