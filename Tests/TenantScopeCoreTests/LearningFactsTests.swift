import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct LearningFactsTests {
    func fact(_ actor: String, _ verb: String, object: String, course: String?, at day: Int, cohort: String? = nil) -> StatementFacts {
        StatementFacts(
            id: DeterministicUUID.make("\(actor)/\(verb)/\(object)/\(day)"), actorKey: actor, actorName: nil, verbID: verb,
            objectID: object, objectType: object == course ? TenantScopeXAPI.courseActivityType : nil,
            course: course.map { CourseReference(iri: $0, title: nil) }, registration: nil,
            timestamp: Date(timeIntervalSince1970: Double(1_756_684_800 + day * 86_400)),  // 2025-09-01 + day
            completesCourse: object == course && (verb == TenantScopeXAPI.completedVerb || verb == TenantScopeXAPI.passedVerb),
            cohort: cohort, learnerRegion: nil
        )
    }

    @Test func enrollsAtFirstStatementAndCompletesAtFirstCourseCompletion() throws {
        let facts = LearningFacts(statements: [
            fact("a", TenantScopeXAPI.completedVerb, object: "c1", course: "c1", at: 40),
            fact("a", "experienced", object: "c1/m1", course: "c1", at: 3),
            fact("a", TenantScopeXAPI.registeredVerb, object: "c1", course: "c1", at: 2),
            fact("a", TenantScopeXAPI.passedVerb, object: "c1", course: "c1", at: 50),
            fact("b", "experienced", object: "c1/m1", course: "c1", at: 35),
            fact("b", "experienced", object: "nowhere", course: nil, at: 36),
        ])
        #expect(facts.learners.map(\.actorKey) == ["a", "b"])
        #expect(facts.courses.map(\.iri) == ["c1"])
        let a = try #require(facts.enrollments.first { $0.actorKey == "a" })
        #expect(a.enrolledAt == Date(timeIntervalSince1970: 1_756_684_800 + 2 * 86_400))
        #expect(a.completedAt == Date(timeIntervalSince1970: 1_756_684_800 + 40 * 86_400))
        #expect(a.cohort == "2025-09")
        let b = try #require(facts.enrollments.first { $0.actorKey == "b" })
        #expect(b.completedAt == nil)
        #expect(b.cohort == "2025-10")
        #expect(facts.learners.first { $0.actorKey == "b" }?.lastSeen == Date(timeIntervalSince1970: 1_756_684_800 + 36 * 86_400))
    }

    @Test func aNamedCohortWins() {
        let facts = LearningFacts(statements: [
            fact("a", "experienced", object: "c1/m1", course: "c1", at: 1),
            fact("a", "experienced", object: "c1/m2", course: "c1", at: 2, cohort: "spring-intake"),
        ])
        #expect(facts.enrollments.map(\.cohort) == ["spring-intake"])
    }
}
