import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct RandomUUIDTests {
    @Test func isVersion4WithTheRFCVariantAndKeepsEveryOtherBitOfTheGenerator() {
        var generator = SeededGenerator(seed: 11)
        var copy = generator
        let uuid = RandomUUID.make(using: &generator)
        let expected = withUnsafeBytes(of: (copy.next(), copy.next())) { Array($0) }
        let bytes = withUnsafeBytes(of: uuid.uuid) { Array($0) }
        #expect(bytes[6] >> 4 == 4, "version 4")
        #expect(bytes[8] >> 6 == 0b10, "RFC 9562 variant")
        #expect(bytes[6] & 0x0F == expected[6] & 0x0F && bytes[8] & 0x3F == expected[8] & 0x3F)
        for index in bytes.indices where index != 6 && index != 8 { #expect(bytes[index] == expected[index]) }
        #expect(UUID(uuidString: uuid.uuidString) == uuid)
    }

    @Test func theSystemGeneratorGivesDistinctVersion4UUIDs() {
        let uuids = (0..<10_000).map { _ in RandomUUID.make() }
        #expect(Set(uuids).count == uuids.count)
        #expect(uuids.allSatisfy { $0.uuidString.dropFirst(14).first == "4" })
        #expect(uuids.allSatisfy { "89AB".contains($0.uuidString.dropFirst(19).first!) })
    }
}

@Suite struct BufferedRandomTests {
    @Test func givesDistinctVersion4UUIDsAcrossManyRefills() {
        var random = RandomUUID.Buffered()
        let uuids = (0..<1_000).map { _ in RandomUUID.make(using: &random) }
        #expect(Set(uuids).count == uuids.count)
        #expect(uuids.allSatisfy { UUIDText.lowercase($0).dropFirst(14).first == "4" })
        // Every bit position takes both values in 64 more words (two refills): a buffer left zero, or never refilled, fails.
        let words = (0..<64).map { _ in random.next() }
        #expect(words.reduce(0, |) == UInt64.max && words.reduce(UInt64.max, &) == 0)
    }
}
