import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct Base64URLTests {
    @Test func usesTheURLAlphabetWithoutPadding() {
        // 0xfb 0xff is "+/8=" in standard base64.
        #expect(Base64URL.encode(Data([0xfb, 0xff])) == "-_8")
        #expect(Base64URL.encode(Data("hello".utf8)) == "aGVsbG8")
        #expect(Base64URL.encode(Data()) == "")
    }

    @Test func decodesPaddedAndUnpaddedAndRefusesAnythingElse() {
        #expect(Base64URL.decode("-_8") == Data([0xfb, 0xff]))
        #expect(Base64URL.decode("-_8=") == Data([0xfb, 0xff]))
        #expect(Base64URL.decode("aGVsbG8") == Data("hello".utf8))
        #expect(Base64URL.decode("") == Data())
        #expect(Base64URL.decode("+/8") == Data([0xfb, 0xff]), "standard base64 characters decode too, as before")
        #expect(Base64URL.decode("a*b") == nil)
        #expect(Base64URL.decode("é") == nil)
    }

    @Test func roundTripsEveryLength() {
        var generator = SeededGenerator(seed: 7)
        for length in 0..<64 {
            let bytes = Data((0..<length).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
            #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        }
    }
}
