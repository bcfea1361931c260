import Foundation
import Testing
@testable import TenantScopeCore

/// The parameters of the xAPI document resources and the document rules (merge, ETag, JSON type).
@Suite struct DocumentQueryTests {
    static let agent = #"{"objectType":"Agent","name":"A","mbox":"mailto:A@Example.com"}"#

    @Test func stateNeedsActivityAgentAndForWritesTheStateID() throws {
        let query = try DocumentQuery.parse(.state, method: .write, parameters: [
            ("activityId", "https://x.example/a"), ("agent", Self.agent), ("stateId", "s"), ("registration", "A9B1C9D2-0000-4000-8000-000000000001"),
        ])
        // The agent is keyed as a statement's actor is; the registration is lowercased.
        #expect(query.address == DocumentAddress(kind: .state, activityID: "https://x.example/a", agentKey: "mbox:mailto:a@example.com",
                                                 registration: "a9b1c9d2-0000-4000-8000-000000000001"))
        #expect(query.documentID == "s")
        #expect(throws: TenantScopeError.self) { try DocumentQuery.parse(.state, method: .write, parameters: [("activityId", "https://x.example/a"), ("agent", Self.agent)]) }
        #expect(throws: TenantScopeError.self) { try DocumentQuery.parse(.state, method: .read, parameters: [("agent", Self.agent)]) }
        #expect(throws: TenantScopeError.self) { try DocumentQuery.parse(.state, method: .read, parameters: [("activityId", "https://x.example/a")]) }
        // A whole set is read or deleted without a stateId.
        #expect(try DocumentQuery.parse(.state, method: .delete, parameters: [("activityId", "https://x.example/a"), ("agent", Self.agent)]).documentID == nil)
    }

    @Test func malformedParametersAreRefused() {
        let bad: [(DocumentKind, DocumentQuery.Method, [(String, String)])] = [
            (.state, .read, [("activityId", "no iri"), ("agent", Self.agent)]),
            (.state, .read, [("activityId", "https://x.example/a"), ("agent", "true")]),
            (.state, .read, [("activityId", "https://x.example/a"), ("agent", #"{"name":"no identifier"}"#)]),
            (.state, .read, [("activityId", "https://x.example/a"), ("agent", #"{"mbox":"mailto:a@b.example","openid":"https://o.example"}"#)]),
            (.state, .read, [("activityId", "https://x.example/a"), ("agent", Self.agent), ("registration", "true")]),
            (.state, .read, [("activityId", "https://x.example/a"), ("agent", Self.agent), ("since", "not a timestamp")]),
            (.state, .read, [("activityId", "https://x.example/a"), ("agent", Self.agent), ("stateId", "s"), ("since", "2020-01-01T00:00:00Z")]),
            (.activityProfile, .read, [("activityId", "https://x.example/a"), ("agent", Self.agent)]),
            (.activityProfile, .delete, [("activityId", "https://x.example/a")]),
            (.agentProfile, .write, [("agent", Self.agent)]),
            (.agentProfile, .read, [("agent", Self.agent), ("agent", Self.agent)]),
            (.activityProfile, .read, [("activityId", "https://x.example/" + String(repeating: "a", count: 1_000))]),
            (.activityProfile, .write, [("activityId", "https://x.example/a"), ("profileId", String(repeating: "p", count: 501))]),
        ]
        for (kind, method, parameters) in bad {
            #expect(throws: TenantScopeError.self, "\(parameters)") { try DocumentQuery.parse(kind, method: method, parameters: parameters) }
        }
    }

    @Test func sinceIsNormalizedToUTCMicroseconds() throws {
        let query = try DocumentQuery.parse(.activityProfile, method: .read, parameters: [("activityId", "https://x.example/a"), ("since", "2026-01-02T03:04:05+01:00")])
        #expect(query.since == "2026-01-02T02:04:05.000000Z")
    }

    @Test func postMergesTopLevelKeysOfJSONObjectsOnly() throws {
        let stored = DocumentContent(bytes: Array(#"{"car":{"make":"Ford"},"driver":"Dale"}"#.utf8), contentType: "application/json")
        let patch = DocumentContent(bytes: Array(#"{"car":{"model":"Ram"}}"#.utf8), contentType: "application/json; charset=utf-8")
        let merged = try stored.merging(patch)
        #expect(try JSONParser.parse(merged.bytes) == ["car": ["model": "Ram"], "driver": "Dale"])
        let text = DocumentContent(bytes: Array("abc".utf8), contentType: "text/plain")
        #expect(throws: TenantScopeError.self) { try stored.merging(text) }
        #expect(throws: TenantScopeError.self) { try text.merging(patch) }
        #expect(throws: TenantScopeError.self) { try stored.merging(DocumentContent(bytes: Array("[1]".utf8), contentType: "application/json")) }
    }

    @Test func etagIsTheSHA1HexOfTheContent() {
        #expect(DocumentContent(bytes: Array("abc".utf8), contentType: nil).etag == "a9993e364706816aba3e25717850c26c9cd0d89d")
        #expect(DocumentContent(bytes: [], contentType: nil).contentType == "application/octet-stream")
    }

    @Test func activityDefinitionsMergeLanguagesAndKeepTheNewestOtherwise() {
        let merged = ActivityObject.merge(id: "https://x.example/a", definitions: [
            ["name": ["en-US": "meeting"], "type": "https://x.example/old"],
            ["name": ["fr-FR": "réunion"], "type": "https://x.example/new"],
        ])
        #expect(merged == ["objectType": "Activity", "id": "https://x.example/a",
                           "definition": ["name": ["en-US": "meeting", "fr-FR": "réunion"], "type": "https://x.example/new"]])
        #expect(ActivityObject.merge(id: "https://x.example/b", definitions: []) == ["objectType": "Activity", "id": "https://x.example/b"])
    }
}
