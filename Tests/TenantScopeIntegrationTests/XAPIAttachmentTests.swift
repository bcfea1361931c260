import Crypto
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Statements with attachment content (`multipart/mixed`, xAPI 1.0.3 Data 2.4.11 and Communication
/// 1.5.2) over HTTP against real PostgreSQL: stored with the statements or not at all, served with
/// `attachments=true`, and never across tenants even when two tenants name the same hash.
@Suite(.database, .serialized) struct XAPIAttachmentTests {
    typealias Client = any TestClientProtocol
    static let boundary = "xapi-test-boundary"

    static func attachment(_ bytes: [UInt8], fileUrl: String? = nil) -> String {
        let url = fileUrl.map { #","fileUrl":"\#($0)""# } ?? ""
        return #"{"usageType":"https://example.com/usage/evidence","display":{"en-US":"evidence"},"contentType":"text/plain","length":\#(bytes.count),"sha2":"\#(hash(bytes))"\#(url)}"#
    }

    static func hash(_ bytes: [UInt8]) -> String { Hex.encode(SHA256.hash(data: bytes)) }

    /// A multipart body: the statements, then one part per content (with its hash unless `hashes` says otherwise).
    static func multipart(_ statements: String, _ contents: [[UInt8]], hashes: [String]? = nil, contentType: String = "text/plain") -> ByteBuffer {
        var parts = [MultipartBody.Part(headers: ["Content-Type": "application/json"], body: Array(statements.utf8))]
        for (index, content) in contents.enumerated() {
            parts.append(.init(headers: ["Content-Type": contentType, "Content-Transfer-Encoding": "binary",
                                         "X-Experience-API-Hash": hashes?[index] ?? hash(content)], body: content))
        }
        return ByteBuffer(bytes: MultipartBody(parts: parts).encoded(boundary: boundary))
    }

    static func multipartHeaders(_ member: LRSFixture.Member) -> HTTPFields {
        var headers = member.headers
        headers[.contentType] = "multipart/mixed; boundary=\(boundary)"
        return headers
    }

    @discardableResult
    static func post(_ client: Client, _ member: LRSFixture.Member, _ body: ByteBuffer, expect status: HTTPResponse.Status,
                     sourceLocation: SourceLocation = #_sourceLocation) async throws -> String {
        try await client.execute(uri: "/xAPI/statements", method: .post, headers: multipartHeaders(member), body: body) { response in
            let text = String(buffer: response.body)
            #expect(response.status == status, "\(text)", sourceLocation: sourceLocation)
            return text
        }
    }

    /// GET as `member`: the response's parts (a JSON response is one part).
    static func get(_ client: Client, _ member: LRSFixture.Member, _ query: String,
                    sourceLocation: SourceLocation = #_sourceLocation) async throws -> (contentType: String, parts: [MultipartBody.Part], raw: [UInt8]) {
        try await client.execute(uri: "/xAPI/statements?\(query)", method: .get, headers: member.headers) { response in
            let raw = Array(response.body.readableBytesView)
            #expect(response.status == .ok, "\(String(decoding: raw, as: UTF8.self))", sourceLocation: sourceLocation)
            let type = response.headers[.contentType] ?? ""
            guard type.hasPrefix("multipart/mixed") else { return (type, [.init(headers: [:], body: raw)], raw) }
            return (type, try MultipartBody.parse(raw, boundary: MultipartBody.boundary(ofContentType: type)).parts, raw)
        }
    }

    @Test func contentIsStoredWithTheStatementAndServedWithAttachmentsTrue() async throws {
        try await LRSFixture.with { client, fixture in
            let content = Array("evidence \u{0}\u{1}\u{FF} bytes\r\n--not-a-boundary".utf8)
            let id = UUID()
            let statement = XAPIJSON.statement(id: id, extra: #","attachments":[\#(Self.attachment(content))]"#)
            let ids = try await Self.post(client, fixture.a, Self.multipart(statement, [content]), expect: .ok)
            #expect(XAPIConformanceTests.ids(ids) == [id.uuidString.lowercased()])

            for query in ["statementId=\(id.uuidString.lowercased())&attachments=true", "attachments=true"] {
                let answer = try await Self.get(client, fixture.a, query)
                #expect(answer.contentType.hasPrefix("multipart/mixed; boundary="))
                #expect(answer.parts.count == 2)
                #expect(answer.parts.first?.mediaType == "application/json")
                #expect(String(decoding: answer.parts[0].body, as: UTF8.self).contains(id.uuidString.lowercased()))
                #expect(answer.parts.last?.body == content)
                #expect(answer.parts.last?.headers["x-experience-api-hash"] == Self.hash(content))
                #expect(answer.parts.last?.headers["content-transfer-encoding"] == "binary")
            }
            for query in ["statementId=\(id.uuidString.lowercased())", "attachments=false"] {
                #expect(try await Self.get(client, fixture.a, query).contentType == "application/json")
            }
            // PUT takes multipart too; the same content sent again is stored once.
            let second = UUID()
            try await client.execute(uri: "/xAPI/statements?statementId=\(second.uuidString.lowercased())", method: .put,
                                     headers: Self.multipartHeaders(fixture.a),
                                     body: Self.multipart(XAPIJSON.statement(extra: #","attachments":[\#(Self.attachment(content))]"#), [content])) { response in
                #expect(response.status == .noContent, "\(String(buffer: response.body))")
            }
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.xapi_attachments") == ["1"])
        }
    }

    @Test func partsAndAttachmentsMustMatchOrNothingIsStored() async throws {
        try await LRSFixture.with { client, fixture in
            let content = Array("the content".utf8)
            let statement = XAPIJSON.statement(extra: #","attachments":[\#(Self.attachment(content))]"#)
            // The part is missing: as multipart, and as application/json (which cannot carry it).
            #expect(try await Self.post(client, fixture.a, Self.multipart(statement, []), expect: .badRequest).contains("no fileUrl"))
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", fixture.a.headers, statement, expect: .badRequest)
            // A part no attachment references, a part whose bytes do not have its hash.
            let extra = Array("unreferenced".utf8)
            #expect(try await Self.post(client, fixture.a, Self.multipart(statement, [content, extra]), expect: .badRequest).contains("no attachment"))
            #expect(try await Self.post(client, fixture.a, Self.multipart(statement, [Array("tampered".utf8)], hashes: [Self.hash(content)]),
                                        expect: .badRequest).contains("SHA-2"))
            // The first part must be the statements.
            let wrongFirst = ByteBuffer(bytes: MultipartBody(parts: [.init(headers: ["Content-Type": "text/plain"], body: content)]).encoded(boundary: Self.boundary))
            try await Self.post(client, fixture.a, wrongFirst, expect: .badRequest)
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.statements") == ["0"])
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.xapi_attachments") == ["0"])
            // A fileUrl needs no part.
            let byURL = XAPIJSON.statement(extra: #","attachments":[\#(Self.attachment(content, fileUrl: "https://example.com/f.txt"))]"#)
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", fixture.a.headers, byURL, expect: .ok)
        }
    }

    /// A part's Content-Type is stored as text: one PostgreSQL cannot store (a NUL) or the column's
    /// CHECK refuses (over 255 characters) is the client's 400, and nothing is stored.
    @Test func aPartsContentTypeMustBeStorable() async throws {
        try await LRSFixture.with { client, fixture in
            let content = Array("the content".utf8)
            let statement = XAPIJSON.statement(extra: #","attachments":[\#(Self.attachment(content))]"#)
            for (contentType, message) in [("text/\u{0}plain", "control character"), ("text/plain\u{1B}x", "control character"),
                                           ("text/" + String(repeating: "x", count: 251), "255 bytes")] {
                let answer = try await Self.post(client, fixture.a, Self.multipart(statement, [content], contentType: contentType), expect: .badRequest)
                #expect(answer.contains(message), "\(answer)")
            }
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.statements") == ["0"])
            #expect(try await fixture.rows(fixture.a, "SELECT count(*)::text FROM app.xapi_attachments") == ["0"])
            // A tab is whitespace a header value may hold; 255 bytes is the limit, not past it.
            try await Self.post(client, fixture.a, Self.multipart(statement, [content], contentType: "text/plain;\tcharset=utf-8"), expect: .ok)
            try await Self.post(client, fixture.a, Self.multipart(XAPIJSON.statement(extra: #","attachments":[\#(Self.attachment(content))]"#), [content],
                                                                  contentType: "text/" + String(repeating: "x", count: 250)), expect: .ok)
        }
    }

    @Test func anotherTenantCannotReachContentByItsHash() async throws {
        try await LRSFixture.with { client, fixture in
            let canary = Array("canary-\(UUID().uuidString)".utf8)
            let canaryText = String(decoding: canary, as: UTF8.self)
            try await Self.post(client, fixture.a, Self.multipart(XAPIJSON.statement(extra: #","attachments":[\#(Self.attachment(canary))]"#), [canary]), expect: .ok)

            // B names A's hash without sending the content: refused, so B cannot claim it.
            let claim = XAPIJSON.statement(extra: #","attachments":[\#(Self.attachment(canary))]"#)
            try await Self.post(client, fixture.b, Self.multipart(claim, []), expect: .badRequest)
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", fixture.b.headers, claim, expect: .badRequest)
            // By fileUrl B may reference the hash, but attachments=true serves B's content only: none.
            let byURL = UUID()
            let referenced = XAPIJSON.statement(id: byURL, extra: #","attachments":[\#(Self.attachment(canary, fileUrl: "https://example.com/x"))]"#)
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", fixture.b.headers, referenced, expect: .ok)
            for query in ["statementId=\(byURL.uuidString.lowercased())&attachments=true", "attachments=true"] {
                let answer = try await Self.get(client, fixture.b, query)
                #expect(answer.parts.count == 1)
                #expect(!String(decoding: answer.raw, as: UTF8.self).contains(canaryText))
            }
            #expect(try await fixture.rows(fixture.b, "SELECT count(*)::text FROM app.xapi_attachments") == ["0"])
            // A still has its content.
            #expect(try await Self.get(client, fixture.a, "attachments=true").parts.last?.body == canary)
        }
    }
}
