import Foundation

/// Learners, courses and enrollments derived from statements.
///
/// The mapping (documented in docs/xapi-mapping.md):
/// - a learner is an actor key;
/// - a course is the statement's course reference (object or parent/grouping of type course);
/// - a learner is enrolled in a course from their first statement about it (a `registered` statement
///   usually comes first);
/// - the enrollment is completed at the first `completed`/`passed` statement whose object is the course;
/// - the cohort is the one named by the cohort extension, else the UTC month of enrollment (`2026-09`);
/// - voided statements and voiding statements are not learning activity and are ignored.
///
/// The database derives the same tables with `app.refresh_learning_facts` (migrations 4 and 5); this type is
/// the reference model the property test compares that SQL against.
public struct LearningFacts: Sendable {
    public struct Learner: Hashable, Sendable {
        public var actorKey: String
        public var displayName: String?
        public var region: String?
        public var firstSeen: Date
        public var lastSeen: Date
    }

    public struct Course: Hashable, Sendable {
        public var iri: String
        public var title: String?
    }

    public struct Enrollment: Hashable, Sendable {
        public var actorKey: String
        public var courseIRI: String
        public var enrolledAt: Date
        public var completedAt: Date?
        public var cohort: String
        public var registration: UUID?
    }

    public var learners: [Learner]
    public var courses: [Course]
    public var enrollments: [Enrollment]

    public init(statements: [StatementFacts]) {
        var learners: [String: Learner] = [:]
        var courses: [String: Course] = [:]
        var enrollments: [String: Enrollment] = [:]
        var namedCohorts: [String: String] = [:]

        // A statement is voided when any voiding statement names it (whichever arrived first).
        let voided = Set(statements.compactMap(\.voidedStatementID))
        for fact in statements.filter({ !$0.isVoiding && !voided.contains($0.id) }).sorted(by: { ($0.timestamp, $0.id.uuidString) < ($1.timestamp, $1.id.uuidString) }) {
            if var learner = learners[fact.actorKey] {
                learner.lastSeen = max(learner.lastSeen, fact.timestamp)
                learner.displayName = learner.displayName ?? fact.actorName
                learner.region = learner.region ?? fact.learnerRegion
                learners[fact.actorKey] = learner
            } else {
                learners[fact.actorKey] = Learner(
                    actorKey: fact.actorKey, displayName: fact.actorName, region: fact.learnerRegion,
                    firstSeen: fact.timestamp, lastSeen: fact.timestamp
                )
            }
            guard let course = fact.course else { continue }
            if courses[course.iri]?.title == nil {
                courses[course.iri] = Course(iri: course.iri, title: course.title)
            }
            let key = fact.actorKey + "\u{0}" + course.iri
            if let cohort = fact.cohort { namedCohorts[key] = namedCohorts[key] ?? cohort }
            var enrollment = enrollments[key] ?? Enrollment(
                actorKey: fact.actorKey, courseIRI: course.iri, enrolledAt: fact.timestamp,
                completedAt: nil, cohort: String(ISO8601Timestamp.day(fact.timestamp).prefix(7)),
                registration: fact.registration
            )
            enrollment.registration = enrollment.registration ?? fact.registration
            if fact.completesCourse, enrollment.completedAt == nil {
                enrollment.completedAt = fact.timestamp
            }
            enrollments[key] = enrollment
        }
        for (key, cohort) in namedCohorts { enrollments[key]?.cohort = cohort }

        self.learners = learners.values.sorted { $0.actorKey < $1.actorKey }
        self.courses = courses.values.sorted { $0.iri < $1.iri }
        self.enrollments = enrollments.values.sorted { ($0.actorKey, $0.courseIRI) < ($1.actorKey, $1.courseIRI) }
    }
}
