/// The views a tenant's ad-hoc SQL and AI agents may read: schema `semantic` (migration 20).
///
/// This is the documented contract (served by `describe_semantic_layer`, the MCP resource and
/// docs/semantic-layer.md); the migration holds the SQL, and a database test proves the two agree
/// (names, columns, comments). Every view is `security_invoker`, so row-level security of the tables
/// underneath applies to the querying role: a view shows the current tenant's rows only. No view has a
/// raw learner identifier (the xAPI actor, an e-mail address, a keyed learner hash) or the raw statement:
/// learners are their `learner_id`, a random UUID of this tenant.
public enum SemanticLayer {
    public static let schema = "semantic"

    public struct Column: Sendable, Hashable {
        public let name: String
        /// The PostgreSQL type, as `format_type` prints it.
        public let type: String
        public let comment: String
    }

    public struct View: Sendable, Hashable {
        public let name: String
        public let comment: String
        public let columns: [Column]
    }

    public static let views: [View] = [
        View(name: "statements", comment: "xAPI statements received by this tenant's learning record store, one row per statement.", columns: [
            Column(name: "statement_id", type: "uuid", comment: "The statement's xAPI id."),
            Column(name: "learner_id", type: "uuid", comment: "The learner who made it (semantic.learners); null until the learner is derived."),
            Column(name: "verb_id", type: "text", comment: "The xAPI verb IRI, e.g. http://adlnet.gov/expapi/verbs/completed."),
            Column(name: "object_id", type: "text", comment: "The IRI of the activity the statement is about."),
            Column(name: "object_type", type: "text", comment: "The activity type IRI, when the statement gave one."),
            Column(name: "course_iri", type: "text", comment: "The course the activity belongs to (the object or its parent/grouping course)."),
            Column(name: "course_title", type: "text", comment: "The course's display name as the statement gave it."),
            Column(name: "registration", type: "uuid", comment: "The xAPI registration (one attempt at a course), when given."),
            Column(name: "occurred_at", type: "timestamp with time zone", comment: "When the experience happened (xAPI timestamp)."),
            Column(name: "stored_at", type: "timestamp with time zone", comment: "When TenantScope stored the statement."),
            Column(name: "voided", type: "boolean", comment: "True once a later statement voided this one; most analyses exclude voided rows."),
            Column(name: "voids_statement_id", type: "uuid", comment: "For a voiding statement: the id of the statement it voids; null otherwise."),
            Column(name: "completes_course", type: "boolean", comment: "True when the statement completes its course (completed/passed on the course)."),
            Column(name: "cohort", type: "text", comment: "The cohort a context extension named, if any."),
            Column(name: "region", type: "text", comment: "The learner's region a context extension named, if any."),
        ]),
        View(name: "learners", comment: "Learners of this tenant, derived from statements.", columns: [
            Column(name: "learner_id", type: "uuid", comment: "The learner's random id in this tenant."),
            Column(name: "display_name", type: "text", comment: "The learner's name as statements gave it."),
            Column(name: "region", type: "text", comment: "The learner's region, if statements named one."),
            Column(name: "first_seen", type: "timestamp with time zone", comment: "The learner's first statement."),
            Column(name: "last_seen", type: "timestamp with time zone", comment: "The learner's latest statement."),
        ]),
        View(name: "courses", comment: "Courses of this tenant, derived from statements.", columns: [
            Column(name: "course_id", type: "uuid", comment: "The course's id."),
            Column(name: "course_iri", type: "text", comment: "The course's activity IRI."),
            Column(name: "title", type: "text", comment: "The course's display name."),
            Column(name: "created_at", type: "timestamp with time zone", comment: "When TenantScope first saw the course."),
        ]),
        View(name: "enrollments", comment: "One row per learner and course: when the learner enrolled and completed.", columns: [
            Column(name: "learner_id", type: "uuid", comment: "The learner (semantic.learners)."),
            Column(name: "course_id", type: "uuid", comment: "The course (semantic.courses)."),
            Column(name: "enrolled_at", type: "timestamp with time zone", comment: "Registration or first activity in the course."),
            Column(name: "completed_at", type: "timestamp with time zone", comment: "First completion of the course; null while not completed."),
            Column(name: "cohort", type: "text", comment: "The cohort: a context extension's, else the enrollment month (YYYY-MM)."),
            Column(name: "registration", type: "uuid", comment: "The xAPI registration of the enrollment, when given."),
        ]),
        View(name: "daily_learner_activity", comment: "Roll-up: statements per learner and UTC day (voided statements excluded).", columns: [
            Column(name: "day", type: "date", comment: "The UTC day."),
            Column(name: "learner_id", type: "uuid", comment: "The learner (semantic.learners)."),
            Column(name: "statements", type: "integer", comment: "Statements the learner made that day."),
        ]),
        View(name: "daily_active_learners", comment: "Roll-up: distinct active learners per UTC day.", columns: [
            Column(name: "day", type: "date", comment: "The UTC day."),
            Column(name: "learners", type: "integer", comment: "Distinct learners with at least one statement that day."),
        ]),
        View(name: "daily_enrollment_outcomes", comment: "Roll-up: enrollments per UTC enrollment day, course, cohort, region and days to complete.", columns: [
            Column(name: "day", type: "date", comment: "The UTC day of enrollment."),
            Column(name: "course_id", type: "uuid", comment: "The course (semantic.courses)."),
            Column(name: "cohort", type: "text", comment: "The enrollments' cohort."),
            Column(name: "region", type: "text", comment: "The learners' region, if known."),
            Column(name: "days_to_complete", type: "integer", comment: "Whole days from enrollment to completion; null while not completed."),
            Column(name: "enrollments", type: "integer", comment: "Enrollments in this group."),
        ]),
        View(name: "monthly_course_outcomes",
             comment: "Roll-up: enrollments and completions per UTC enrollment month, course, cohort and region (semantic.daily_enrollment_outcomes summed by month).",
             columns: [
            Column(name: "month", type: "date", comment: "The first day of the UTC month of enrollment; the current month holds the days rolled up so far."),
            Column(name: "course_id", type: "uuid", comment: "The course (semantic.courses)."),
            Column(name: "cohort", type: "text", comment: "The enrollments' cohort."),
            Column(name: "region", type: "text", comment: "The learners' region, if known."),
            Column(name: "enrolled", type: "integer", comment: "Enrollments in this group."),
            Column(name: "completed", type: "integer", comment: "Of them, the ones completed."),
        ]),
        View(name: "monthly_completion_times",
             comment: "Roll-up: completed enrollments per UTC enrollment month, course, region and days to complete (semantic.daily_enrollment_outcomes summed by month).",
             columns: [
            Column(name: "month", type: "date", comment: "The first day of the UTC month of enrollment; the current month holds the days rolled up so far."),
            Column(name: "course_id", type: "uuid", comment: "The course (semantic.courses)."),
            Column(name: "region", type: "text", comment: "The learners' region, if known."),
            Column(name: "days_to_complete", type: "integer", comment: "Whole days from enrollment to completion."),
            Column(name: "completions", type: "integer", comment: "Completed enrollments in this group."),
        ]),
        View(name: "daily_feature_usage", comment: "Roll-up: product feature use per UTC day.", columns: [
            Column(name: "day", type: "date", comment: "The UTC day."),
            Column(name: "feature_key", type: "text", comment: "The product feature, e.g. reports.export."),
            Column(name: "events", type: "integer", comment: "Events of the feature that day."),
            Column(name: "actors", type: "integer", comment: "Distinct users of the feature that day."),
        ]),
        View(name: "feature_events", comment: "Product events: which feature was used when (the acting user is not exposed).", columns: [
            Column(name: "event_id", type: "uuid", comment: "The event's id."),
            Column(name: "feature_key", type: "text", comment: "The product feature."),
            Column(name: "occurred_at", type: "timestamp with time zone", comment: "When the feature was used."),
            Column(name: "received_at", type: "timestamp with time zone", comment: "When TenantScope received the event."),
        ]),
    ]

    /// The views by name.
    public static let viewNames: Set<String> = Set(views.map(\.name))

    /// The layer as a plain-text schema (for agents): one `CREATE VIEW`-like block per view with comments.
    public static var schemaText: String {
        views.map { view in
            "-- \(view.comment)\n\(schema).\(view.name) (\n"
                + view.columns.map { "  \($0.name) \($0.type) -- \($0.comment)" }.joined(separator: ",\n")
                + "\n)"
        }.joined(separator: "\n\n") + "\n"
    }
}
