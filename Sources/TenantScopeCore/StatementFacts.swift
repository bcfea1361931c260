import Foundation

/// The columns TenantScope keeps beside a stored xAPI statement, read out of its JSON.
///
/// Reports filter and group on these columns; the full statement stays in `jsonb`.
public struct StatementFacts: Hashable, Sendable {
    public var id: UUID
    /// The actor's inverse functional identifier in one canonical string, e.g. `mbox:mailto:a@b.example`
    /// or `account:https://lms.example|1234`.
    public var actorKey: String
    public var actorName: String?
    public var verbID: String
    public var objectID: String
    public var objectType: String?
    /// The course the statement belongs to: its object when that is a course, otherwise the first
    /// `parent` or `grouping` context activity typed as a course.
    public var course: CourseReference?
    public var registration: UUID?
    public var timestamp: Date
    /// The statement says the actor completed the course (`completed`/`passed` with the course as object).
    public var completesCourse: Bool
    /// `context.extensions[TenantScopeXAPI.cohortExtension]`, when the sender names a cohort.
    public var cohort: String?
    /// `context.extensions[TenantScopeXAPI.regionExtension]`: a learner attribute reports may filter on.
    public var learnerRegion: String?
    /// The statement voids this one (verb `voided`, object a `StatementRef`). Voiding statements are
    /// bookkeeping, not learning activity: they never count as a learner's activity.
    public var voidedStatementID: UUID?

    public var isVoiding: Bool { voidedStatementID != nil }
}

extension StatementFacts {
    /// Reads the facts out of a parsed statement.
    ///
    /// Throws `invalidInput` naming the first property that is missing or malformed. Full xAPI
    /// validation is stricter; this only needs what the derived tables use.
    public init(statement: JSONObject) throws(TenantScopeError) {
        guard let idText = statement["id"]?.stringValue, let id = UUIDText.parse(idText) else {
            throw .invalidInput("statement.id must be a UUID")
        }
        guard let actor = statement["actor"]?.objectValue, let actorKey = Self.actorKey(actor) else {
            throw .invalidInput("statement.actor must have exactly one identifier (mbox, mbox_sha1sum, openid or account)")
        }
        guard let verb = statement["verb"]?.objectValue, let verbID = verb["id"]?.stringValue, !verbID.isEmpty else {
            throw .invalidInput("statement.verb.id is required")
        }
        guard let object = statement["object"]?.objectValue, let objectID = Self.objectKey(object), !objectID.isEmpty else {
            throw .invalidInput("statement.object.id is required")
        }
        // Both keys are indexed with the tenant (the actor's with a time too), and a B-tree entry holds about 2,700
        // bytes. One identifier's key is bounded by its parts (an IRI, a name); an anonymous group's joins its members'.
        for (key, path) in [(actorKey, "statement.actor"), (objectID, "statement.object")] where key.utf8.count > Self.maximumKeyBytes {
            throw .invalidInput("\(path): its members' identifiers together are longer than \(Self.maximumKeyBytes) bytes")
        }
        guard let timestampText = statement["timestamp"]?.stringValue,
              let timestamp = ISO8601Timestamp.parse(timestampText)
        else {
            throw .invalidInput("statement.timestamp must be an ISO 8601 date-time with a time zone")
        }

        let definition = object["definition"]?.objectValue
        let objectType = definition?["type"]?.stringValue
        let context = statement["context"]?.objectValue
        let extensions = context?["extensions"]?.objectValue

        var course: CourseReference?
        if objectType == TenantScopeXAPI.courseActivityType {
            course = CourseReference(iri: objectID, title: Self.firstName(definition))
        } else if let activities = context?["contextActivities"]?.objectValue {
            for key in ["parent", "grouping"] {
                let entry = activities[key]
                let list = entry?.arrayValue?.compactMap(\.objectValue) ?? entry?.objectValue.map { [$0] } ?? []
                if let match = list.first(where: {
                    $0["definition"]?["type"]?.stringValue == TenantScopeXAPI.courseActivityType
                }), let iri = match["id"]?.stringValue {
                    course = CourseReference(iri: iri, title: Self.firstName(match["definition"]?.objectValue))
                    break
                }
            }
        }

        self.id = id
        self.actorKey = actorKey
        self.actorName = actor["name"]?.stringValue
        self.verbID = verbID
        self.objectID = objectID
        self.objectType = objectType
        self.course = course
        self.registration = (context?["registration"]?.stringValue).flatMap(UUIDText.parse)
        self.timestamp = timestamp
        self.completesCourse = objectType == TenantScopeXAPI.courseActivityType
            && (verbID == TenantScopeXAPI.completedVerb || verbID == TenantScopeXAPI.passedVerb)
        self.cohort = extensions?[TenantScopeXAPI.cohortExtension]?.stringValue
        self.learnerRegion = extensions?[TenantScopeXAPI.regionExtension]?.stringValue
        // Cohorts are indexed and both are grouped on: bounded like identifiers.
        for (value, name) in [(cohort, "cohort"), (learnerRegion, "learner-region")] {
            if let value, value.utf8.count > StatementValidator.maximumIdentifierBytes {
                throw .invalidInput("statement.context.extensions[\(name) extension] is longer than \(StatementValidator.maximumIdentifierBytes) bytes")
            }
        }
        self.voidedStatementID = verbID == TenantScopeXAPI.voidedVerb && object["objectType"]?.stringValue == "StatementRef"
            ? UUIDText.parse(objectID) : nil
    }

    /// The longest actor or object key, in UTF-8 bytes: above the longest single identifier's (an account's, with an
    /// IRI of ``StatementValidator/maximumIRIBytes`` and a name of ``StatementValidator/maximumIdentifierBytes``), below
    /// what a B-tree entry of the tenant, the key and a time can hold.
    public static let maximumKeyBytes = 2600

    /// What a statement is about, in one string: the id of an activity or statement reference, the key
    /// of an agent or group, `SubStatement` for a sub-statement.
    static func objectKey(_ object: JSONObject) -> String? {
        switch object["objectType"]?.stringValue ?? "Activity" {
        case "Agent", "Group": actorKey(object)
        case "SubStatement": "SubStatement"
        default: object["id"]?.stringValue
        }
    }

    /// The canonical key of an agent or identified group: exactly one inverse functional identifier.
    /// An anonymous group is keyed by its members' keys. Nil when neither applies.
    public static func actorKey(_ actor: JSONObject) -> String? {
        if let key = identifierKey(actor) { return key }
        guard actor["objectType"]?.stringValue == "Group", !hasIdentifier(actor),
              let members = actor["member"]?.arrayValue?.compactMap(\.objectValue), !members.isEmpty else { return nil }
        let keys = members.compactMap(identifierKey)
        guard keys.count == members.count else { return nil }
        return "group:" + keys.sorted().joined(separator: ",")
    }

    private static func hasIdentifier(_ actor: JSONObject) -> Bool {
        ["mbox", "mbox_sha1sum", "openid", "account"].contains { actor[$0] != nil }
    }

    private static func identifierKey(_ actor: JSONObject) -> String? {
        var keys: [String] = []
        if let mbox = actor["mbox"]?.stringValue { keys.append("mbox:\(mbox.lowercased())") }
        if let sha = actor["mbox_sha1sum"]?.stringValue { keys.append("mbox_sha1sum:\(sha.lowercased())") }
        if let openid = actor["openid"]?.stringValue { keys.append("openid:\(openid)") }
        if let account = actor["account"]?.objectValue,
           let home = account["homePage"]?.stringValue, let name = account["name"]?.stringValue {
            keys.append("account:\(home)|\(name)")
        }
        return keys.count == 1 ? keys[0] : nil
    }

    private static func firstName(_ definition: JSONObject?) -> String? {
        guard let names = definition?["name"]?.objectValue else { return nil }
        if let english = names["en-US"]?.stringValue ?? names["en"]?.stringValue { return english }
        return names.keys.sorted().lazy.compactMap { names[$0]?.stringValue }.first
    }
}
