import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct StatementFactsTests {
    func statement(_ overrides: JSONObject = [:]) -> JSONObject {
        var json: JSONObject = [
            "id": "54f42ca3-a826-4af9-935d-7e7b853a6c49",
            "actor": ["objectType": "Agent", "account": ["name": "c63a", "homePage": "http://fun-mooc.fr"]],
            "verb": ["id": "https://w3id.org/xapi/video/verbs/played"],
            "object": ["id": "uuid://7d4f", "definition": ["type": "https://w3id.org/xapi/video/activity-type/video"]],
            "context": ["contextActivities": ["parent": [[
                "id": "course-v1:FUN-MOOC+00002+session01",
                "definition": ["type": "http://adlnet.gov/expapi/activities/course", "name": ["en-US": "FUN course"]],
            ]]]],
            "timestamp": "2021-11-29T12:37:59.839754+00:00",
        ]
        json.merge(overrides) { $1 }
        return json
    }

    @Test func readsTheRealStatementShape() throws {
        let facts = try StatementFacts(statement: statement())
        #expect(facts.actorKey == "account:http://fun-mooc.fr|c63a")
        #expect(facts.verbID == "https://w3id.org/xapi/video/verbs/played")
        #expect(facts.course == CourseReference(iri: "course-v1:FUN-MOOC+00002+session01", title: "FUN course"))
        #expect(!facts.completesCourse)
    }

    @Test func completingTheCourseObjectCompletesTheCourse() throws {
        let facts = try StatementFacts(statement: statement([
            "verb": ["id": .string(TenantScopeXAPI.completedVerb)],
            "object": ["id": "https://x.example/course", "definition": ["type": .string(TenantScopeXAPI.courseActivityType)]],
        ]))
        #expect(facts.completesCourse)
        #expect(facts.course?.iri == "https://x.example/course")
    }

    @Test func completingAVideoDoesNotCompleteItsCourse() throws {
        let facts = try StatementFacts(statement: statement(["verb": ["id": .string(TenantScopeXAPI.completedVerb)]]))
        #expect(!facts.completesCourse)
    }

    @Test func anActorNeedsExactlyOneIdentifier() {
        #expect(StatementFacts.actorKey(["mbox": "mailto:A@x.example"]) == "mbox:mailto:a@x.example")
        #expect(StatementFacts.actorKey(["mbox": "mailto:a@x.example", "openid": "https://id.example/a"]) == nil)
        #expect(StatementFacts.actorKey(["name": "nobody"]) == nil)
    }

    @Test func namesTheMissingProperty() {
        #expect(throws: TenantScopeError.invalidInput("statement.verb.id is required")) {
            try StatementFacts(statement: statement(["verb": [:]]))
        }
        #expect(throws: TenantScopeError.self) { try StatementFacts(statement: statement(["timestamp": "yesterday"])) }
        #expect(throws: TenantScopeError.self) { try StatementFacts(statement: statement(["id": "not-a-uuid"])) }
    }
}
