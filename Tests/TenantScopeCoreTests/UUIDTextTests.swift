import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct UUIDTextTests {
    @Test func readsAndWritesWhatFoundationDoes() {
        var generator = SeededGenerator(seed: 5)
        for _ in 0..<2_000 {
            let uuid = RandomUUID.make(using: &generator)
            let text = UUIDText.lowercase(uuid)
            #expect(text == uuid.uuidString.lowercased())
            #expect(UUIDText.parse(text) == uuid)
            #expect(UUIDText.parse(uuid.uuidString) == uuid, "upper case")
        }
        let allBits = UUID(uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))
        #expect(UUIDText.lowercase(allBits) == "ffffffff-ffff-ffff-ffff-ffffffffffff")
        #expect(UUIDText.parse("00000000-0000-0000-0000-000000000000") == UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)))
    }

    @Test(arguments: [
        "", "f81d4fae-7dec-11d0-a765-00a0c91e6bf", "f81d4fae-7dec-11d0-a765-00a0c91e6bf60",
        "f81d4fae7dec-11d0-a765-00a0c91e6bf6a", "f81d4fae-7dec-11d0-a765-00a0c91e6bg6", "{81d4fae-7dec-11d0-a765-00a0c91e6bf}",
        "f81d4fae-7dec-11d0-a765_00a0c91e6bf6", "f81d4fae-7dec-11d0-a765-00a0c91e6bé",
        "f81d4fae-7dec-11d0-a765-00a0c91e6b\u{0661}\u{0661}", "f81d4fae-7dec-11d0-a76500-a0c91e6bf6",
    ])
    func refusesAnythingButThe36CharacterForm(_ text: String) {
        #expect(UUIDText.parse(text) == nil)
        #expect(UUID(uuidString: text) == nil, "Foundation refuses it too")
    }

    /// Foundation reads with `sscanf`, which skips leading white space, so the validator's old check (36 characters
    /// that Foundation reads as a UUID) let a statement id " f81d…" through; it is no UUID and is refused.
    @Test func aStatementIDWithLeadingWhiteSpaceIsRefused() throws {
        let text = " f81d4fae-7dec-11d0-a765-00a0c91e6bf"
        #expect(UUIDText.parse(text) == nil)
        let statement = try JSONParser.parse(Array(#"{"id":"\#(text)","actor":{"mbox":"mailto:a@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/a"}}"#.utf8))
        let validator = StatementValidator(authority: ["homePage": "https://x.example", "name": "k"])
        #expect(throws: TenantScopeError.invalidInput("statement.id must be a UUID")) {
            try validator.prepare(statement, stored: Date(timeIntervalSince1970: 1_795_000_000))
        }
    }
}

/// The LRS's parameters read UUIDs with the validator's grammar: what a statement may not carry as its id, a query may
/// not name either.
@Suite struct UUIDParameterTests {
    static let spaced = " f81d4fae-7dec-11d0-a765-00a0c91e6bf"

    @Test(arguments: ["statementId", "voidedStatementId", "registration"])
    func statementQueriesRefuseWhatIsNotTheUUIDForm(_ key: String) {
        #expect(throws: TenantScopeError.self) { try StatementQuery.parse([(key, Self.spaced)]) }
        #expect(throws: Never.self) { try StatementQuery.parse([(key, "f81d4fae-7dec-11d0-a765-00a0c91e6bf6")]) }
    }

    @Test func documentQueriesRefuseARegistrationThatIsNotTheUUIDForm() {
        let agent = #"{"mbox":"mailto:a@b.example"}"#
        let base = [("activityId", "http://x.example/a"), ("agent", agent), ("stateId", "s")]
        #expect(throws: TenantScopeError.invalidInput("registration must be a UUID")) {
            try DocumentQuery.parse(.state, method: .read, parameters: base + [("registration", Self.spaced)])
        }
        #expect(throws: Never.self) {
            try DocumentQuery.parse(.state, method: .read, parameters: base + [("registration", "f81d4fae-7dec-11d0-a765-00a0c91e6bf6")])
        }
    }
}

/// A tenant id read from configuration or a token takes the same grammar.
@Suite struct TenantIDParsingTests {
    @Test func aTenantIDIsReadOnlyFromTheUUIDForm() {
        #expect(TenantID(uuidString: UUIDParameterTests.spaced) == nil)
        #expect(TenantID(uuidString: "F81D4FAE-7DEC-11D0-A765-00A0C91E6BF6")?.description == "f81d4fae-7dec-11d0-a765-00a0c91e6bf6")
    }
}
