import Foundation

/// Generates the deterministic demo dataset: for a profile and an anchor day, always the same rows.
///
/// Everything the derived tables hold is computed from the generated statements through
/// ``LearningFacts`` (the mapping in docs/xapi-mapping.md), so demo facts and demo statements agree.
public struct DemoDataGenerator: Sendable {
    /// A statement ready to store: its JSON text, its facts and when the LRS stored it.
    public struct Statement: Sendable {
        public var json: String
        public var facts: StatementFacts
        public var stored: Date
    }

    public struct TenantData: Sendable {
        public var profile: DemoTenantProfile
        /// A unique value planted in the raw tenant tables (learner, course, enrollment, statement, product
        /// event), for isolation tests; the roll-ups carry it only as the canary learner's hashed key.
        public var canary: UUID
        public var statements: [Statement]
        public var facts: LearningFacts
        public var featureEvents: [FeatureEvent]
    }

    /// How many days of history the demo covers.
    public static let historyDays = 120

    public let anchor: Date

    /// - Parameter anchor: "now" for the dataset; the history ends on the UTC day before it.
    public init(anchor: Date) {
        let day = 86_400.0
        self.anchor = Date(timeIntervalSince1970: (anchor.timeIntervalSince1970 / day).rounded(.down) * day)
    }

    public static func canary(for slug: String) -> UUID {
        DeterministicUUID.make("tenantscope-demo/canary/\(slug)")
    }

    /// Splits the shared real statements over the profiles by actor, so each real learner belongs to one tenant.
    public static func assignRealStatements(
        _ statements: [JSONObject], to profiles: [DemoTenantProfile]
    ) -> [String: [JSONObject]] {
        var result: [String: [JSONObject]] = [:]
        for statement in statements {
            guard let actor = statement["actor"]?.objectValue, let key = StatementFacts.actorKey(actor) else { continue }
            var rng = SeededGenerator(name: "assign/" + key)
            let profile = profiles[Int(rng.next() % UInt64(profiles.count))]
            result[profile.slug, default: []].append(statement)
        }
        return result
    }

    public func generate(_ profile: DemoTenantProfile, realStatements: [JSONObject] = []) throws(TenantScopeError) -> TenantData {
        var rng = SeededGenerator(name: "tenantscope-demo/" + profile.slug)
        let canary = Self.canary(for: profile.slug)
        var statements: [Statement] = []
        let start = anchor.addingTimeInterval(-Double(Self.historyDays) * 86_400)

        func emit(_ object: JSONObject, at time: Date) throws(TenantScopeError) {
            var json = object
            json["timestamp"] = .string(ISO8601Timestamp.format(time))
            let stored = time.addingTimeInterval(2)
            json["stored"] = .string(ISO8601Timestamp.format(stored))
            json["version"] = "1.0.0"
            statements.append(try Self.statement(json, stored: stored))
        }

        let courses = Self.courseCatalog.shuffledDeterministically(&rng).prefix(profile.courseCount).map { $0 }
        let orientation = (iri: "https://\(profile.slug).example/courses/orientation-\(canary.uuidString.lowercased())",
                           title: "Orientation", modules: 2, completion: 0.9, meanDays: 2.0)

        for index in 0..<(profile.learnerCount + 1) {
            let isCanary = index == profile.learnerCount
            let email = isCanary
                ? "canary-\(canary.uuidString.lowercased())@\(profile.slug).example"
                : "learner\(index)@\(profile.slug).example"
            let actor: JSONValue = [
                "objectType": "Agent", "mbox": "mailto:\(email)",
                "name": .string(isCanary ? "Canary Learner" : Self.learnerName(&rng)),
            ]
            let region = profile.learnerRegions[Int(rng.next() % UInt64(profile.learnerRegions.count))]
            // Growth: later days are more likely to bring new learners (square-root skew toward the anchor).
            let joinDay = Int(Double(Self.historyDays - 1) * rng.unit().squareRoot())
            let enrollmentCount = isCanary ? 1 : 1 + Int(rng.next() % 3)
            let chosen = isCanary ? [orientation] : Array(courses.shuffledDeterministically(&rng).prefix(enrollmentCount))

            for course in chosen {
                let enrolledAt = start.addingTimeInterval(Double(joinDay) * 86_400 + 8 * 3600 + rng.unit() * 10 * 3600)
                guard enrolledAt < anchor else { continue }
                let registration = isCanary ? canary : DeterministicUUID.make("\(profile.slug)/\(email)/\(course.iri)")
                let courseObject: JSONValue = [
                    "objectType": "Activity", "id": .string(course.iri),
                    "definition": ["type": .string(TenantScopeXAPI.courseActivityType), "name": ["en-US": .string(course.title)]],
                ]
                var context: JSONObject = [
                    "registration": .string(registration.uuidString.lowercased()),
                    "extensions": [TenantScopeXAPI.regionExtension: .string(region)],
                    "contextActivities": ["parent": [courseObject]],
                ]
                var sequence = 0
                func nextID() -> JSONValue {
                    sequence += 1
                    return .string(DeterministicUUID.make("\(profile.slug)/\(email)/\(course.iri)/\(sequence)").uuidString.lowercased())
                }

                try emit([
                    "id": nextID(), "actor": actor,
                    "verb": ["id": .string(TenantScopeXAPI.registeredVerb), "display": ["en-US": "registered"]],
                    "object": courseObject, "context": ["registration": context["registration"]!, "extensions": context["extensions"]!],
                ], at: enrolledAt)

                // Log-normal-ish duration around the course's mean, so the histogram has a long tail.
                let willComplete = rng.chance(course.completion)
                let days = max(0.2, course.meanDays * exp((rng.unit() - 0.5) * 1.6))
                let completedAt = enrolledAt.addingTimeInterval(days * 86_400)
                let finished = willComplete && completedAt < anchor
                let horizon = min(finished ? completedAt : enrolledAt.addingTimeInterval(days * 86_400), anchor)
                let modulesDone = finished ? course.modules : Int(rng.next() % UInt64(course.modules + 1))

                for module in 0..<modulesDone {
                    let at = enrolledAt.addingTimeInterval(
                        horizon.timeIntervalSince(enrolledAt) * (Double(module) + rng.unit()) / Double(course.modules + 1)
                    )
                    try emit([
                        "id": nextID(), "actor": actor,
                        "verb": ["id": "http://adlnet.gov/expapi/verbs/experienced", "display": ["en-US": "experienced"]],
                        "object": [
                            "objectType": "Activity", "id": "\(course.iri)/modules/\(module + 1)",
                            "definition": [
                                "type": "http://adlnet.gov/expapi/activities/module",
                                "name": ["en-US": "\(course.title) — module \(module + 1)"],
                            ],
                        ],
                        "context": .object(context),
                    ], at: at)
                }
                if finished {
                    context.removeValue(forKey: "contextActivities")
                    try emit([
                        "id": nextID(), "actor": actor,
                        "verb": ["id": .string(TenantScopeXAPI.completedVerb), "display": ["en-US": "completed"]],
                        "object": courseObject,
                        "result": [
                            "completion": true, "success": true,
                            "score": ["scaled": JSONValue(((0.6 + rng.unit() * 0.4) * 1000).rounded() / 1000)],
                        ],
                        "context": .object(context),
                    ], at: completedAt)
                }
            }
        }

        // The shared real statements: keep everything but the time, which is stretched over the history window.
        let realTimes = realStatements.compactMap { $0["timestamp"]?.stringValue.flatMap(ISO8601Timestamp.parse) }
        if let first = realTimes.min(), let last = realTimes.max() {
            let span = max(last.timeIntervalSince(first), 1)
            let window = Double(Self.historyDays) * 86_400 - 3600
            for statement in realStatements {
                guard let original = statement["timestamp"]?.stringValue.flatMap(ISO8601Timestamp.parse) else { continue }
                try emit(statement, at: start.addingTimeInterval(original.timeIntervalSince(first) / span * window))
            }
        }

        let facts = LearningFacts(statements: statements.map(\.facts))
        let events = featureEvents(profile, canaryActor: "mbox:mailto:canary-\(canary.uuidString.lowercased())@\(profile.slug).example", start: start)
        return TenantData(profile: profile, canary: canary, statements: statements, facts: facts, featureEvents: events)
    }

    private func featureEvents(_ profile: DemoTenantProfile, canaryActor: String, start: Date) -> [FeatureEvent] {
        var rng = SeededGenerator(name: "tenantscope-demo/events/" + profile.slug)
        var events: [FeatureEvent] = [
            FeatureEvent(
                id: DeterministicUUID.make("\(profile.slug)/events/canary"), featureKey: "dashboards",
                actor: canaryActor, occurredAt: start.addingTimeInterval(86_400 * 3)
            ),
        ]
        for day in 0..<Self.historyDays {
            for feature in profile.featureDailyRates.keys.sorted() {
                let rate = profile.featureDailyRates[feature]!
                // Adoption ramps up over the window, like a feature rolled out and then taken up.
                let ramp = 0.3 + 0.7 * Double(day) / Double(Self.historyDays)
                let count = Int((rate * ramp * (0.5 + rng.unit())).rounded())
                for n in 0..<count {
                    events.append(FeatureEvent(
                        id: DeterministicUUID.make("\(profile.slug)/events/\(feature)/\(day)/\(n)"),
                        featureKey: feature,
                        actor: "mbox:mailto:staff\(rng.next() % 12)@\(profile.slug).example",
                        occurredAt: start.addingTimeInterval(Double(day) * 86_400 + rng.unit() * 86_400)
                    ))
                }
            }
        }
        return events
    }

    private static func statement(_ json: JSONObject, stored: Date) throws(TenantScopeError) -> Statement {
        let facts = try StatementFacts(statement: json)
        // Sorted keys: the same statement is the same text on every run (isDeterministic compares them).
        return Statement(json: JSONValue.object(json).jsonText(sortingKeys: true), facts: facts, stored: stored)
    }

    private static func learnerName(_ rng: inout SeededGenerator) -> String {
        let first = ["Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jon", "Kemi", "Liam",
                     "Maya", "Nils", "Olga", "Priya", "Quinn", "Rosa", "Sami", "Tara", "Uma", "Vik", "Wen", "Yara"]
        let last = ["Abbott", "Baker", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jensen",
                    "Kowalski", "Lopez", "Moreau", "Nakamura", "Okafor", "Petrov", "Rossi", "Silva", "Tanaka", "Weber"]
        return first[Int(rng.next() % UInt64(first.count))] + " " + last[Int(rng.next() % UInt64(last.count))]
    }

    private typealias CourseSpec = (iri: String, title: String, modules: Int, completion: Double, meanDays: Double)

    private static let courseCatalog: [CourseSpec] = [
        ("https://courses.tenantscope.dev/data-privacy-essentials", "Data Privacy Essentials", 4, 0.82, 6),
        ("https://courses.tenantscope.dev/workplace-safety", "Workplace Safety", 3, 0.88, 4),
        ("https://courses.tenantscope.dev/leadership-foundations", "Leadership Foundations", 6, 0.55, 21),
        ("https://courses.tenantscope.dev/customer-success-101", "Customer Success 101", 5, 0.67, 12),
        ("https://courses.tenantscope.dev/intro-to-sql", "Intro to SQL", 6, 0.48, 18),
        ("https://courses.tenantscope.dev/effective-feedback", "Effective Feedback", 3, 0.74, 7),
        ("https://courses.tenantscope.dev/cybersecurity-awareness", "Cybersecurity Awareness", 4, 0.79, 5),
        ("https://courses.tenantscope.dev/project-management-basics", "Project Management Basics", 5, 0.6, 15),
    ]
}

extension Array {
    /// A Fisher–Yates shuffle driven by a seeded generator, so the order is reproducible.
    func shuffledDeterministically(_ rng: inout SeededGenerator) -> [Element] {
        var copy = self
        guard copy.count > 1 else { return copy }
        for i in stride(from: copy.count - 1, to: 0, by: -1) {
            copy.swapAt(i, Int(rng.next() % UInt64(i + 1)))
        }
        return copy
    }
}
