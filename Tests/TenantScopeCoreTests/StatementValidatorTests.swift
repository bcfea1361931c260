import Foundation
import Testing
@testable import TenantScopeCore

/// Rules of xAPI 1.0.3 that ADL's conformance suite checks and the validator once let through: each
/// refused input is a 400 naming the property, and each accepted neighbour shows the rule is no wider.
@Suite struct StatementValidatorTests {
    static let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "k"])

    static func statement(actor: String = #"{"mbox":"mailto:a@b.example"}"#, object: String = #"{"id":"http://x.example/a"}"#,
                          extra: String = "") -> String {
        #"{"actor":\#(actor),"verb":{"id":"http://x.example/v"},"object":\#(object)\#(extra)}"#
    }

    static func prepare(_ text: String) throws -> JSONValue {
        let value = try JSONParser.parse(Array(text.utf8))
        return try validator.prepare(value, stored: Date(timeIntervalSince1970: 1_795_000_000)).json
    }

    static let attachment = #""usageType":"http://x.example/u","display":{"en-US":"a"},"contentType":"text/plain","length":1,"sha2":"ab""#

    @Test(arguments: [
        ("a numeric actor objectType (XAPI-00032)", statement(actor: #"{"objectType":1,"mbox":"mailto:a@b.example"}"#), "statement.actor.objectType must be a string"),
        ("an object as objectType", statement(object: #"{"objectType":{},"id":"http://x.example/a"}"#), "statement.object.objectType must be a string"),
        ("choices without interactionType (XAPI-00064)",
         statement(object: #"{"id":"http://x.example/a","definition":{"choices":[{"id":"c","description":{"en":"C"}}]}}"#),
         "statement.object.definition.choices needs definition.interactionType"),
        ("an identified Group as authority (XAPI-00100)",
         statement(extra: #","authority":{"objectType":"Group","mbox":"mailto:g@b.example","member":[{"mbox":"mailto:a@b.example"},{"mbox":"mailto:c@b.example"}]}"#),
         "must be anonymous"),
        ("a Group of three as authority (XAPI-00098)",
         statement(extra: #","authority":{"objectType":"Group","member":[{"mbox":"mailto:a@b.example"},{"mbox":"mailto:c@b.example"},{"mbox":"mailto:d@b.example"}]}"#),
         "exactly two members"),
        ("an attachment usageType that is not an IRI (XAPI-00107)",
         statement(extra: #","attachments":[{"usageType":"not an iri","display":{"en-US":"a"},"contentType":"text/plain","length":1,"sha2":"ab"}]"#),
         "statement.attachments[0].usageType must be an IRI"),
        ("an attachment fileUrl that is not an IRL (XAPI-00104)",
         statement(extra: #","attachments":[{\#(attachment),"fileUrl":"not a url"}]"#), "statement.attachments[0].fileUrl must be an IRI"),
        ("an attachment description that is not a language map (XAPI-00106)",
         statement(extra: #","attachments":[{\#(attachment),"description":"text"}]"#), "statement.attachments[0].description must be a language map"),
        ("a duration mixing weeks and days (XAPI-00124)", statement(extra: #","result":{"duration":"P4W1D"}"#), "statement.result.duration"),
        ("a duration ending in a line break", statement(extra: #","result":{"duration":"PT1H\n"}"#), "statement.result.duration"),
        ("a week duration ending in a line break", statement(extra: #","result":{"duration":"P1W\u2028"}"#), "statement.result.duration"),
        ("a duration in digits of another script", statement(extra: #","result":{"duration":"PT\u0663H"}"#), "statement.result.duration"),
        ("a contextAgent of another objectType (xAPI 2.0)",
         statement(extra: #","context":{"contextAgents":[{"objectType":"Agent","agent":{"mbox":"mailto:a@b.example"}}]}"#),
         "statement.context.contextAgents[0].objectType must be contextAgent"),
        ("empty relevantTypes (xAPI 2.0)",
         statement(extra: #","context":{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:a@b.example"},"relevantTypes":[]}]}"#),
         "relevantTypes must be a non-empty array"),
        ("a contextGroup whose group is an Agent (xAPI 2.0)",
         statement(extra: #","context":{"contextGroups":[{"objectType":"contextGroup","group":{"mbox":"mailto:a@b.example"}}]}"#),
         "statement.context.contextGroups[0].group must be a Group"),
    ])
    func refused(_ name: String, _ body: String, _ message: String) throws {
        let value = try JSONParser.parse(Array(body.utf8))
        do {
            _ = try Self.validator.prepare(value, stored: Date(timeIntervalSince1970: 1_795_000_000))
            Issue.record("\(name) was accepted")
        } catch {
            #expect(error.kind == .invalidInput && error.message.contains(message), "\(name): \(error.message)")
        }
    }

    @Test(arguments: [
        statement(extra: #","result":{"duration":"P4W"}"#),
        statement(extra: #","context":{"contextAgents":[{"objectType":"contextAgent","agent":{"mbox":"mailto:a@b.example"},"relevantTypes":["https://x.example/t"]}]}"#),
        statement(extra: #","result":{"duration":"P1DT2H3.5S"}"#),
        statement(extra: #","authority":{"objectType":"Group","member":[{"mbox":"mailto:a@b.example"},{"account":{"homePage":"https://x.example","name":"app"}}]}"#),
        statement(object: #"{"id":"http://x.example/a","definition":{"interactionType":"choice","choices":[{"id":"c","description":{"en":"C"}}]}}"#),
        statement(extra: #","attachments":[{\#(attachment),"fileUrl":"https://x.example/f","description":{"en-US":"d"}}]"#),
    ])
    func accepted(_ body: String) throws {
        _ = try Self.prepare(body)
    }

    /// Language tags, IRIs and mbox are checked on bytes (decision 64); these hold the byte rules to what the Character
    /// rules accepted before.
    @Test(arguments: [
        ("en", true), ("en-US", true), ("zh-Hant-TW", true), ("de-CH-1996", true), ("x-klingon", true), ("abcdefgh-12345678", true),
        ("", false), ("-en", false), ("en-", false), ("en--US", false), ("e1", false), ("1en", false), ("abcdefghi", false),
        ("en-abcdefghi", false), ("en_US", false), ("é", false), ("en-ü", false), ("en US", false), ("en-U\u{301}S", false),
    ])
    func languageTags(_ tag: String, _ valid: Bool) {
        #expect(StatementValidator.isLanguageTag(tag) == valid, "\(tag)")
    }

    @Test(arguments: [
        ("http://x.example/a", true), ("urn:uuid:1", true), ("https://x.example/é", true), ("a+b.c-d:x", true),
        ("", false), (":x", false), ("1http://x", false), ("http://x y", false), ("http://x\u{7F}", false),
        ("https://x.example/\u{3000}", false), ("https://x.example/\u{85}", false), ("ht_tp://x", false), ("no-colon", false),
    ])
    func iris(_ text: String, _ valid: Bool) {
        #expect(StatementValidator.isIRI(text) == valid, "\(text)")
    }

    @Test(arguments: [
        ("mailto:a@b", true), ("mailto:é@b", true), ("mailto:@", false), ("mailto:ab", false), ("mailto:a@", true),
        ("mailto:@\u{301}", false), ("mail:a@b.example", false),
    ])
    func mboxes(_ mbox: String, _ valid: Bool) {
        let body = Self.statement(actor: #"{"mbox":"\#(mbox)"}"#)
        #expect(((try? Self.prepare(body)) != nil) == valid, "\(mbox)")
    }

    /// A single context activity comes back as an array of one (XAPI-00096), in a SubStatement too.
    @Test func singleContextActivitiesAreStoredAsArrays() throws {
        let context = #","context":{"contextActivities":{"parent":{"id":"http://x.example/p"},"other":[{"id":"http://x.example/o"}]}}"#
        let sub = #"{"objectType":"SubStatement","actor":{"mbox":"mailto:s@b.example"},"verb":{"id":"http://x.example/v"},"object":{"id":"http://x.example/s"}\#(context)}"#
        let json = try Self.prepare(Self.statement(object: sub, extra: context))
        for activities in [json["context"]?["contextActivities"], json["object"]?["context"]?["contextActivities"]] {
            #expect(activities?["parent"]?.arrayValue?.count == 1)
            #expect(activities?["parent"]?.arrayValue?.first?["id"]?.stringValue == "http://x.example/p")
            #expect(activities?["other"]?.arrayValue?.count == 1)
        }
    }
}
