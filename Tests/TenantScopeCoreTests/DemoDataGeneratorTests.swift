import Foundation
import Testing
@testable import TenantScopeCore

@Suite struct DemoDataGeneratorTests {
    let anchor = Date(timeIntervalSince1970: 1_795_996_800)  // 2026-11-30
    let acme = DemoTenantProfile.all[0]

    @Test func isDeterministic() throws {
        let first = try DemoDataGenerator(anchor: anchor).generate(acme)
        let second = try DemoDataGenerator(anchor: anchor.addingTimeInterval(3600)).generate(acme)  // same UTC day
        #expect(first.statements.map(\.json) == second.statements.map(\.json))
        #expect(first.featureEvents == second.featureEvents)
    }

    @Test func tenantsDiffer() throws {
        let generator = DemoDataGenerator(anchor: anchor)
        let acme = try generator.generate(DemoTenantProfile.all[0])
        let globex = try generator.generate(DemoTenantProfile.all[1])
        #expect(acme.canary != globex.canary)
        #expect(Set(acme.statements.map(\.facts.id)).isDisjoint(with: globex.statements.map(\.facts.id)))
        #expect(Set(acme.featureEvents.map(\.featureKey)) != Set(globex.featureEvents.map(\.featureKey)))
    }

    @Test func plantsTheCanaryInEveryKindOfRow() throws {
        let data = try DemoDataGenerator(anchor: anchor).generate(acme)
        let canary = data.canary.uuidString.lowercased()
        #expect(data.facts.learners.contains { $0.actorKey.contains(canary) })
        #expect(data.facts.courses.contains { $0.iri.contains(canary) })
        #expect(data.facts.enrollments.contains { $0.registration == data.canary })
        #expect(data.statements.contains { $0.json.contains(canary) })
        #expect(data.featureEvents.contains { $0.actor.contains(canary) })
    }

    @Test func staysInsideTheHistoryWindowAndIsConsistent() throws {
        let data = try DemoDataGenerator(anchor: anchor).generate(acme)
        let start = anchor.addingTimeInterval(-Double(DemoDataGenerator.historyDays) * 86_400)
        #expect(data.statements.allSatisfy { $0.facts.timestamp >= start && $0.facts.timestamp < anchor })
        #expect(data.featureEvents.allSatisfy { $0.occurredAt >= start && $0.occurredAt < anchor })
        #expect(data.facts.enrollments.allSatisfy { enrollment in enrollment.completedAt.map { $0 >= enrollment.enrolledAt } ?? true })
        let completed = data.facts.enrollments.filter { $0.completedAt != nil }.count
        #expect(completed > data.facts.enrollments.count / 4 && completed < data.facts.enrollments.count)
        #expect(Set(data.facts.enrollments.map(\.cohort)).count >= 4)
    }

    @Test func spreadsRealStatementsByActorAndStretchesTheirTime() throws {
        let real: [JSONObject] = (0..<60).map { n in [
            "id": .string(DeterministicUUID.make("real/\(n)").uuidString),
            "actor": ["account": ["name": "learner-\(n % 20)", "homePage": "http://fun-mooc.fr"]],
            "verb": ["id": "https://w3id.org/xapi/video/verbs/played"],
            "object": ["id": "uuid://video-\(n % 3)"],
            "timestamp": .string(ISO8601Timestamp.format(Date(timeIntervalSince1970: 1_637_751_363 + Double(n) * 10_000))),
        ] }
        let assigned = DemoDataGenerator.assignRealStatements(real, to: DemoTenantProfile.all)
        #expect(assigned.values.map(\.count).reduce(0, +) == 60)
        var owner: [String: String] = [:]
        for (slug, statements) in assigned {
            for statement in statements {
                let key = try #require(statement["actor"]?.objectValue.flatMap(StatementFacts.actorKey))
                #expect(owner.updateValue(slug, forKey: key) ?? slug == slug, "an actor belongs to one tenant")
            }
        }
        let slug = try #require(assigned.keys.sorted().first)
        let profile = try #require(DemoTenantProfile.all.first { $0.slug == slug })
        let data = try DemoDataGenerator(anchor: anchor).generate(profile, realStatements: assigned[slug]!)
        let realIDs = Set(assigned[slug]!.map { UUID(uuidString: $0["id"]!.stringValue!)! })
        let stretched = data.statements.filter { realIDs.contains($0.facts.id) }.map(\.facts.timestamp)
        #expect(stretched.count == realIDs.count)
        #expect((stretched.max()!.timeIntervalSince(stretched.min()!)) > 30 * 86_400)
    }
}
