import Foundation
import NIOCore
import PostgresNIO
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Migration 23's document functions held to the Swift rules they took over (architecture decision 45):
/// whether a stored document is a JSON object (`JSONParser`, over JSONTestSuite and the edges of its limits),
/// whether a stored Content-Type is JSON (`DocumentContent.isJSON`), and what a POST leaves
/// (`DocumentContent.merging`).
@Suite(.database) struct XAPIDocumentStatementTests {
    /// What the parser says: a JSON object, or not.
    static func parserReadsAnObject(_ bytes: [UInt8]) -> Bool {
        (try? JSONParser.parse(bytes))?.objectValue != nil
    }

    /// JSONTestSuite's parsing corpus (kept with the core tests), each file as it is and as a member's value.
    static func corpus() throws -> [(name: String, bytes: [UInt8])] {
        let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("TenantScopeCoreTests/Resources/JSONTestSuite/test_parsing")
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { $0.hasSuffix(".json") }.sorted()
        return try names.flatMap { name in
            let bytes = Array(try Data(contentsOf: directory.appendingPathComponent(name)))
            return [(name, bytes), ("{\"k\":\(name)}", Array(#"{"k":"#.utf8) + bytes + Array("}".utf8))]
        }
    }

    /// The limits the parser adds to JSON's grammar, on both sides of each.
    static let edges: [(name: String, text: String)] = {
        // 2^1024 - 2^970: halfway between the largest Double and 2^1024; from here on, rounding gives infinity.
        let halfway = "179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792"
        let belowHalfway = String(halfway.dropLast()) + "1"
        func nested(_ levels: Int, _ open: String, _ close: String) -> String {
            #"{"a":"# + String(repeating: open, count: levels) + "1" + String(repeating: close, count: levels) + "}"
        }
        return [
            ("511 levels", nested(510, "[", "]")), ("512 levels", nested(511, "[", "]")), ("513 levels", nested(512, "[", "]")),
            ("512 object levels", nested(511, #"{"b":"#, "}")), ("513 object levels", nested(512, #"{"b":"#, "}")),
            ("100000 levels", nested(100_000, "[", "]")),
            ("largest Double", #"{"n":1.7976931348623157e308}"#), ("rounds to the largest", #"{"n":1.7976931348623158e308}"#),
            ("below halfway", #"{"n":\#(belowHalfway)}"#), ("halfway", #"{"n":\#(halfway)}"#), ("negative halfway", #"{"n":-\#(halfway)}"#),
            ("negative below halfway", #"{"n":[-\#(belowHalfway)]}"#), ("1e309", #"{"n":1e309}"#), ("-1e309", #"{"n":[{"m":-1e309}]}"#),
            ("0e99999", #"{"n":0e99999}"#), ("1e-400", #"{"n":1e-400}"#), ("scale 16383", #"{"n":1.5e-16382}"#), ("scale 16384", #"{"n":1e-16384}"#),
            ("exponent limit", #"{"n":0e1073741823}"#), ("\\u0000", #"{"s":"\u0000"}"#), ("lone surrogate", #"{"s":"\ud800"}"#),
            ("surrogate pair", #"{"s":"\ud83d\ude00"}"#), ("empty object", "{}"), ("whitespace", " \t\r\n{ }\n"), ("trailing", #"{"a":1}x"#),
            ("array", "[{}]"), ("string", #""{}""#), ("duplicate keys", #"{"a":1,"a":{"b":2}}"#), ("empty", ""),
        ]
    }()

    @Test func storedObjectTestAgreesWithJSONParser() async throws {
        let handle = try TestDatabase.current
        var inputs = try Self.corpus()
        inputs += Self.edges.map { ($0.name, Array($0.text.utf8)) }
        inputs += [("not UTF-8", [0x7B, 0x22, 0xFF, 0x22, 0x3A, 0x31, 0x7D]), ("byte order mark", [0xEF, 0xBB, 0xBF] + Array("{}".utf8))]
        var agreed = 0
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            for (name, bytes) in inputs {
                let row = try await connection.query("SELECT app.xapi_document_is_json_object(\(ByteBuffer(bytes: bytes)))", logger: TestDatabase.logger)
                    .collect().first
                let database = try row?.decode(Bool.self)
                #expect(database == Self.parserReadsAnObject(bytes), "\(name): PostgreSQL \(String(describing: database))")
                if database == Self.parserReadsAnObject(bytes) { agreed += 1 }
            }
        }
        #expect(agreed == inputs.count && inputs.count > 600)
    }

    @Test func storedContentTypeTestAgreesWithIsJSON() async throws {
        let handle = try TestDatabase.current
        let types = [
            "application/json", "application/json; charset=utf-8", "Application/JSON", "APPLICATION/JSON;x=y", " application/json ",
            "\tapplication/json\u{A0};", "\u{3000}application/json", ";application/json", ";;application/json;", "application/json;;",
            "application/jsonx", "application/json-patch+json", "application/ld+json", "text/plain", "application/octet-stream", ";", "",
            "applicatİon/json", "application/\u{212A}son", "application /json", "application/json\u{200B}", "\u{85}application/json",
            "application/json;\u{301}charset=utf-8", "\u{301};application/json", "application/json\u{301}",
        ]
        try await OneShotConnection.with(handle.ownerEndpoint, logger: TestDatabase.logger) { connection in
            for type in types {
                let row = try await connection.query("SELECT app.xapi_is_json_media_type(\(type))", logger: TestDatabase.logger).collect().first
                let swift = DocumentContent(bytes: [], contentType: type).isJSON
                #expect(try row?.decode(Bool.self) == swift, "\(type.unicodeScalars.map { String($0.value, radix: 16) })")
            }
        }
    }

    /// The characters `app.xapi_is_json_media_type` trims are exactly `CharacterSet.whitespaces`.
    @Test func trimmedCharactersAreCharacterSetWhitespaces() {
        let listed = Set(Migration.documentWhitespace.unicodeScalars)
        let whitespace = Set((0...0x10FFFF).compactMap(Unicode.Scalar.init).filter { CharacterSet.whitespaces.contains($0) })
        #expect(listed == whitespace)
    }

    @Test func mergeAgreesWithDocumentContentMerging() async throws {
        let handle = try TestDatabase.current
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("docs")), name: "Documents", logger: TestDatabase.logger)
        let scope = tenant.id.testScope
        let store = handle.database.documents
        let pairs: [(stored: String, patch: String)] = [
            (#"{"a":1,"b":{"c":2}}"#, #"{"b":3,"d":[1,2]}"#),
            (#"{"a":1,"a":2}"#, #"{"b":1,"b":{"c":[]}}"#),
            (#"{"\u00e9":1,"k\"q":2,"tab\t":3}"#, #"{"é":4}"#),
            ("{}", "{}"),
            (#"{"a":1}"#, "{}"),
            ("{}", #"{"a":null}"#),
            (#"{"n":1E2,"m":-0.0,"big":123456789012345678901234567890}"#, #"{"o":1.5e-300}"#),
            ("{\n  \"a\" : [ 1 , 2 ],\n  \"b\" : { \"c\" : \"d\" }\n}", #"{ "b" : null }"#),
            (#"{"ä":1,"z":2,"A":3,"😀":4}"#, #"{"Z":5,"":6}"#),
            (#"{"s":"line\nbreak \/ \u0001"}"#, #"{"t":"\\"}"#),
        ]
        for (index, pair) in pairs.enumerated() {
            let address = DocumentAddress(kind: .activityProfile, activityID: "https://example.com/merge/\(index)")
            let stored = DocumentContent(bytes: Array(pair.stored.utf8), contentType: "application/json")
            let patch = DocumentContent(bytes: Array(pair.patch.utf8), contentType: "application/json")
            try await store.write(stored, mode: .replace, to: address, id: "m", preconditions: .init(ifNoneMatch: ["*"]), in: scope,
                                  logger: TestDatabase.logger)
            try await store.write(patch, mode: .merge, to: address, id: "m", preconditions: .init(), in: scope, logger: TestDatabase.logger)
            let merged = try #require(try await store.document(address, id: "m", in: scope, logger: TestDatabase.logger))
            let expected = try stored.merging(patch)
            #expect(try JSONParser.parse(merged.content.bytes) == JSONParser.parse(expected.bytes), "\(pair): \(String(decoding: merged.content.bytes, as: UTF8.self))")
            #expect(merged.content.contentType == "application/json")
            #expect(merged.etag == merged.content.etag)
            // The top level is written in code-point order of the keys, so a merge's bytes are reproducible.
            let keys = try JSONParser.parse(merged.content.bytes).objectValue.map { Array($0.keys) } ?? []
            let positions = keys.map { key in String(decoding: merged.content.bytes, as: UTF8.self).range(of: JSONValue.string(key).jsonText)!.lowerBound }
            #expect(zip(keys, positions).sorted { $0.1 < $1.1 }.map(\.0) == keys.sorted { $0.unicodeScalars.lexicographicallyPrecedes($1.unicodeScalars) })
        }
    }
}
