import Foundation
@testable import TenantScopeCore

/// Random but reproducible xAPI statements for property tests: learners, courses (as the object or
/// the parent activity), lessons, registrations, region extensions, spread over a span of days.
enum RandomStatements {
    static let verbs = ["registered", "experienced", "attempted", "completed", "passed"].map { "http://adlnet.gov/expapi/verbs/" + $0 }

    /// `titleVariants` above 1 gives a course that many titles ("Course 1", "Course 1 v1", …), so which statement a
    /// title came from shows in the answer; with 1 (the default) every statement of a course names it alike and the
    /// sequence is the one earlier tests were written against.
    static func make(
        seed: UInt64, count: Int, start: Date = Date(timeIntervalSince1970: 1_780_000_000), spanDays: UInt64 = 60, host: String = "prop.example",
        titleVariants: UInt64 = 1
    ) -> [String] {
        var rng = SeededGenerator(seed: seed)
        func pick<T>(_ items: [T]) -> T { items[Int(rng.next() % UInt64(items.count))] }
        func chance(_ percent: UInt64) -> Bool { rng.next() % 100 < percent }
        return (0..<count).map { _ in
            let actor = "mailto:learner\(rng.next() % 7)@\(host)"
            let course = "https://\(host)/course/\(rng.next() % 3)"
            let variant = titleVariants > 1 ? rng.next() % titleVariants : 0
            let title = "Course \(course.suffix(1))" + (variant > 0 ? " v\(variant)" : "")
            let courseActivity = #"{"id":"\#(course)","definition":{"type":"http://adlnet.gov/expapi/activities/course"\#(chance(70) ? #","name":{"en-US":"\#(title)"}"# : "")}}"#
            let object = chance(40) ? courseActivity : #"{"id":"https://\#(host)/lesson/\#(rng.next() % 5)"}"#
            var extensions: [String] = []
            if chance(20) { extensions.append(#""https://tenantscope.dev/xapi/extensions/cohort":"cohort-\#(rng.next() % 3)""#) }
            if chance(20) { extensions.append(#""https://tenantscope.dev/xapi/extensions/learner-region":"region-\#(rng.next() % 2)""#) }
            let registrationID = DeterministicUUID.make("reg-" + String(rng.next() % 4)).uuidString
            let registration = chance(30) ? #""registration":"\#(registrationID)","# : ""
            let context = #""context":{\#(registration)"contextActivities":{"parent":[\#(courseActivity)]},"extensions":{\#(extensions.joined(separator: ","))}}"#
            let millis = Double(rng.next() % (spanDays * 86_400_000)) / 1000
            let timestamp = ISO8601Timestamp.format(start.addingTimeInterval(millis))
            let name = chance(50) ? #","name":"Learner \#(actor.prefix(15).suffix(1))""# : ""
            return #"{"id":"\#(UUID().uuidString.lowercased())","actor":{"mbox":"\#(actor)"\#(name)},"verb":{"id":"\#(pick(verbs))"},"object":\#(object),\#(context),"timestamp":"\#(timestamp)"}"#
        }
    }

    static func voiding(_ target: String) -> String {
        #"{"id":"\#(UUID().uuidString.lowercased())","actor":{"mbox":"mailto:admin@prop.example"},"verb":{"id":"http://adlnet.gov/expapi/verbs/voided"},"object":{"objectType":"StatementRef","id":"\#(target)"},"timestamp":"2026-06-01T00:00:00Z"}"#
    }
}
