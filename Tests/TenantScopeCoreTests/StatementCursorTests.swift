import Foundation
import Testing
@testable import TenantScopeCore

/// `more` cursors keep the whole filter, `attachments` included, and cursors sealed before that flag
/// existed still open (cursors never expire).
@Suite struct StatementCursorTests {
    static let signer = try! StatementCursorSigner(keyHex: String(repeating: "ab", count: 32))
    static let tenant = TenantID(UUID())

    @Test func attachmentsSurvivesTheCursor() throws {
        var filter = StatementFilter(format: .ids)
        filter.attachments = true
        filter.verb = "http://adlnet.gov/expapi/verbs/attended"
        let opened = try Self.signer.open(Self.signer.seal(filter, tenant: Self.tenant), tenant: Self.tenant)
        #expect(opened == filter)
    }

    @Test func aCursorWithoutTheAttachmentsFlagStillOpens() throws {
        let filter = StatementFilter(format: .exact)
        var object = try #require(JSONParser.parse(JSONEncoder().encode(filter)).objectValue)
        object["attachments"] = nil
        let decoded = try JSONDecoder().decode(StatementFilter.self, from: Data(JSONValue.object(object).jsonText.utf8))
        #expect(decoded == filter && !decoded.attachments)
    }
}
