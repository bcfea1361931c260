import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct TenantContextSignerTests {
    let tenant = TenantID(uuidString: "11111111-2222-4333-8444-555555555555")!

    @Test func signsTenantAndExpiryWithHMACSHA256() throws {
        let signer = try TenantContextSigner(keyHex: String(repeating: "00", count: 16) + String(repeating: "ff", count: 16))
        let context = signer.context(for: tenant, expiresAt: Date(timeIntervalSince1970: 1_700_000_000.9))
        // Reference value computed with Python's hmac module over "<tenant>.<expiry>".
        #expect(context == "11111111-2222-4333-8444-555555555555.1700000000."
            + "00c4c2ce2aebed6d1a1d7504b5f51298a9ecedf2ad814fa5539b5ee6964c997a")
    }

    @Test func differentKeysGiveDifferentMACs() throws {
        let a = try TenantContextSigner(keyHex: String(repeating: "ab", count: 32))
        let b = try TenantContextSigner(keyHex: String(repeating: "cd", count: 32))
        let expiry = Date(timeIntervalSince1970: 1_700_000_000)
        #expect(a.context(for: tenant, expiresAt: expiry) != b.context(for: tenant, expiresAt: expiry))
    }

    @Test(arguments: ["", "abcd", String(repeating: "zz", count: 32), String(repeating: "a", count: 63)])
    func refusesShortOrMalformedKeys(_ key: String) {
        #expect(throws: TenantScopeError.self) { try TenantContextSigner(keyHex: key) }
    }
}
