import Foundation

/// Validates xAPI statements the way the xAPI 1.0.3 specification asks an LRS to (2.0 where it is
/// stricter and compatible), and completes them: `id`, `timestamp` and `version` are filled when absent;
/// `stored` and `authority` are always set by the LRS (a sender's values are overwritten). Every refusal
/// names the property path, e.g. `statement.actor.mbox must be a mailto: IRI`. Paths are passed down as autoclosures:
/// they are written out only for the message of a refusal, not for every property of every accepted statement.
public struct StatementValidator: Sendable {
    public let authority: [String: String]
    /// ``authority`` as the JSON every statement gets, built once rather than per statement.
    private let authorityJSON: JSONValue

    /// - Parameter authority: the agent recorded as `authority` (an account naming the credential).
    public init(authority: [String: String]) {
        self.authority = authority
        self.authorityJSON = ["objectType": "Agent", "account": .object(JSONObject(authority.mapValues(JSONValue.string)))]
    }

    /// Validates `statement` and returns it completed, with its facts. `path` names it in errors
    /// (`statements[3]` inside a batch).
    public func prepare(
        _ statement: JSONValue, path: String = "statement", stored: Date, storedText: String? = nil, generateID: () -> UUID = RandomUUID.make
    ) throws(TenantScopeError) -> (json: JSONValue, facts: StatementFacts) {
        guard var object = statement.objectValue else { throw .invalidInput("\(path) must be a JSON object") }
        try validateStatement(object, path: path, isSubStatement: false)
        if object["verb"]?["id"]?.stringValue == TenantScopeXAPI.voidedVerb,
           object["object"]?["objectType"]?.stringValue != "StatementRef" {
            throw .invalidInput("\(path).object must be a StatementRef: a voiding statement names the statement it voids")
        }
        // Room for what is filled in below, so the copy made on the first change is the only one.
        object.reserveCapacity(object.count + 5)
        if object["id"] == nil { object["id"] = .string(UUIDText.lowercase(generateID())) }
        let storedText = storedText ?? ISO8601Timestamp.formatMicroseconds(stored)
        object["stored"] = .string(storedText)
        if object["timestamp"] == nil { object["timestamp"] = .string(storedText) }
        object["authority"] = authorityJSON
        if object["version"] == nil { object["version"] = "1.0.0" }
        Self.normalizeContextActivities(&object)
        do {
            return (.object(object), try StatementFacts(statement: object))
        } catch {
            throw .invalidInput("\(path): \(error.message)")
        }
    }

    /// A single context activity is stored (and so returned) as an array of one: the form the
    /// specification requires an LRS to return (XAPI-00096), for the statement and its SubStatement.
    static func normalizeContextActivities(_ statement: inout JSONObject) {
        // Most senders already send arrays: the statement is copied only when one is not.
        if var context = statement["context"]?.objectValue, var activities = context["contextActivities"]?.objectValue,
           activities.values.contains(where: { $0.objectValue != nil }) {
            for (key, value) in activities where value.objectValue != nil {
                activities[key] = [value]
            }
            context["contextActivities"] = .object(activities)
            statement["context"] = .object(context)
        }
        if var object = statement["object"]?.objectValue, object["objectType"]?.stringValue == "SubStatement" {
            normalizeContextActivities(&object)
            statement["object"] = .object(object)
        }
    }

    /// `objectType`, when present, must be a string: a number or an object is not an absent one.
    static func objectType(_ object: JSONObject, default fallback: String, path: @autoclosure () -> String) throws(TenantScopeError) -> String {
        guard let value = object["objectType"] else { return fallback }
        guard let text = value.stringValue else { throw .invalidInput("\(path()).objectType must be a string") }
        return text
    }

    // The properties xAPI defines on each object, built once rather than for every object validated. Lists, not sets:
    // every key of every object of every ingested statement is checked, and comparing a key with a few short strings
    // costs less than hashing it.
    static let statementKeys: [String] = ["id", "actor", "verb", "object", "result", "context", "timestamp", "stored", "authority", "version", "attachments", "objectType"]
    static let subStatementKeys: [String] = ["actor", "verb", "object", "result", "context", "timestamp", "attachments", "objectType"]
    static let attachmentKeys: [String] = ["usageType", "display", "description", "contentType", "length", "sha2", "fileUrl"]
    static let agentKeys: [String] = ["objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member"]
    static let accountKeys: [String] = ["homePage", "name"]
    static let verbKeys: [String] = ["id", "display"]
    static let statementRefKeys: [String] = ["objectType", "id"]
    static let activityKeys: [String] = ["objectType", "id", "definition"]
    static let definitionKeys: [String] = [
        "name", "description", "type", "moreInfo", "extensions", "interactionType", "correctResponsesPattern",
        "choices", "scale", "source", "target", "steps",
    ]
    static let resultKeys: [String] = ["score", "success", "completion", "response", "duration", "extensions"]
    static let scoreKeys: [String] = ["scaled", "raw", "min", "max"]
    static let interactionTypes = [
        "true-false", "choice", "fill-in", "long-fill-in", "matching", "performance", "sequencing", "likert", "numeric", "other",
    ]
    static let interactionComponents = ["correctResponsesPattern", "choices", "scale", "source", "target", "steps"]
    static let contextActivityKeys = ["parent", "grouping", "category", "other"]
    /// xAPI 2.0's lists of other participants: the property, each entry's objectType, and the entry's member property.
    static let contextParticipants = [("contextAgents", "contextAgent", "agent"), ("contextGroups", "contextGroup", "group")]
    static let contextKeys: [String] = [
        "registration", "instructor", "team", "contextActivities", "revision", "platform", "language", "statement", "extensions",
        "contextAgents", "contextGroups",
    ]

    func validateStatement(_ s: JSONObject, path: @autoclosure () -> String, isSubStatement: Bool) throws(TenantScopeError) {
        try Self.noUnknownKeys(s, allowed: isSubStatement ? Self.subStatementKeys : Self.statementKeys, path: path())
        if let id = s["id"] { try Self.uuid(id, path: path() + ".id") }
        guard let actor = s["actor"] else { throw .invalidInput("\(path()).actor is required") }
        try validateActor(actor, path: path() + ".actor")
        guard let verb = s["verb"] else { throw .invalidInput("\(path()).verb is required") }
        try validateVerb(verb, path: path() + ".verb")
        guard let object = s["object"] else { throw .invalidInput("\(path()).object is required") }
        try validateObject(object, path: path() + ".object", isSubStatement: isSubStatement)
        if let result = s["result"] { try validateResult(result, path: path() + ".result") }
        if let context = s["context"] {
            let objectType = object.objectValue?["objectType"]?.stringValue ?? "Activity"
            try validateContext(context, path: path() + ".context", objectIsActivity: objectType == "Activity")
        }
        if let timestamp = s["timestamp"] { try Self.timestamp(timestamp, path: path() + ".timestamp") }
        if let stored = s["stored"] { try Self.timestamp(stored, path: path() + ".stored") }
        if let authority = s["authority"] { try validateAuthority(authority, path: path() + ".authority") }
        if let version = s["version"] {
            guard let text = version.stringValue, text.hasPrefix("1.0.") || text == "1.0" || text.hasPrefix("2.0") else {
                throw .invalidInput("\(path()).version must be 1.0.x or 2.0.x")
            }
        }
        if let objectType = s["objectType"], !(isSubStatement && objectType.stringValue == "SubStatement") {
            throw .invalidInput("\(path()).objectType is not allowed here")
        }
        if let attachments = s["attachments"] {
            guard let list = attachments.arrayValue else { throw .invalidInput("\(path()).attachments must be an array") }
            for (index, attachment) in list.enumerated() {
                guard let a = attachment.objectValue else { throw .invalidInput("\(path()).attachments[\(index)] must be an object") }
                let attachmentPath = "\(path()).attachments[\(index)]"
                try Self.noUnknownKeys(a, allowed: Self.attachmentKeys, path: attachmentPath)
                guard let usageType = a["usageType"], a["contentType"]?.stringValue != nil, a["length"]?.numberValue != nil,
                      a["sha2"]?.stringValue != nil, let display = a["display"] else {
                    throw .invalidInput("\(attachmentPath) needs usageType, display, contentType, length and sha2")
                }
                try Self.iri(usageType, path: attachmentPath + ".usageType")
                try Self.languageMap(display, path: attachmentPath + ".display")
                if let description = a["description"] { try Self.languageMap(description, path: attachmentPath + ".description") }
                if let fileUrl = a["fileUrl"] { try Self.iri(fileUrl, path: attachmentPath + ".fileUrl") }
            }
        }
    }

    func validateActor(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let actor = value.objectValue else { throw .invalidInput("\(path()) must be an object") }
        let objectType = try Self.objectType(actor, default: "Agent", path: path())
        guard objectType == "Agent" || objectType == "Group" else { throw .invalidInput("\(path()).objectType must be Agent or Group") }
        try Self.noUnknownKeys(actor, allowed: Self.agentKeys, path: path())
        if let name = actor["name"], name.stringValue == nil { throw .invalidInput("\(path()).name must be a string") }
        let identifiers = try Self.identifierCount(actor, path: path())
        if objectType == "Agent" {
            guard identifiers == 1 else { throw .invalidInput("\(path()) must have exactly one of mbox, mbox_sha1sum, openid, account") }
            guard actor["member"] == nil else { throw .invalidInput("\(path()).member is only allowed on a Group") }
        } else {
            guard identifiers <= 1 else { throw .invalidInput("\(path()) must have at most one identifier") }
            if let members = actor["member"] {
                guard let list = members.arrayValue else { throw .invalidInput("\(path()).member must be an array") }
                for (index, member) in list.enumerated() {
                    guard let m = member.objectValue, (m["objectType"]?.stringValue ?? "Agent") == "Agent" else {
                        throw .invalidInput("\(path()).member[\(index)] must be an Agent")
                    }
                    try validateActor(member, path: "\(path()).member[\(index)]")
                }
            } else if identifiers == 0 {
                throw .invalidInput("\(path()): an anonymous Group needs members")
            }
        }
    }

    /// An authority is an Agent, or an anonymous Group of exactly two Agents (the OAuth consumer and
    /// user). The LRS overwrites it with the credential's agent, but a malformed one is still refused.
    func validateAuthority(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        try validateActor(value, path: path())
        guard let authority = value.objectValue, authority["objectType"]?.stringValue == "Group" else { return }
        guard try Self.identifierCount(authority, path: path()) == 0 else {
            throw .invalidInput("\(path()): a Group as authority must be anonymous (no mbox, mbox_sha1sum, openid or account)")
        }
        guard authority["member"]?.arrayValue?.count == 2 else {
            throw .invalidInput("\(path()): a Group as authority must have exactly two members")
        }
    }

    static func identifierCount(_ actor: JSONObject, path: @autoclosure () -> String) throws(TenantScopeError) -> Int {
        var count = 0
        if let mbox = actor["mbox"] {
            guard let text = mbox.stringValue, text.hasPrefix("mailto:"), isLongerThan8Characters(text), text.utf8.contains(UInt8(ascii: "@")) else {
                throw .invalidInput("\(path()).mbox must be a mailto: IRI")
            }
            try identifier(text, path: path() + ".mbox")
            count += 1
        }
        if let sha = actor["mbox_sha1sum"] {
            guard let text = sha.stringValue, text.count == 40, text.allSatisfy(\.isHexDigit) else {
                throw .invalidInput("\(path()).mbox_sha1sum must be 40 hex characters")
            }
            count += 1
        }
        if let openid = actor["openid"] {
            try iri(openid, path: path() + ".openid")
            count += 1
        }
        if let account = actor["account"] {
            guard let a = account.objectValue else { throw .invalidInput("\(path()).account must be an object") }
            try noUnknownKeys(a, allowed: accountKeys, path: path() + ".account")
            guard let home = a["homePage"] else { throw .invalidInput("\(path()).account.homePage is required") }
            try iri(home, path: path() + ".account.homePage")
            guard let name = a["name"]?.stringValue, !name.isEmpty else { throw .invalidInput("\(path()).account.name is required") }
            try identifier(name, path: path() + ".account.name")
            count += 1
        }
        return count
    }

    /// `text.count > 8` without counting grapheme clusters when every byte is ASCII (one character each).
    private static func isLongerThan8Characters(_ text: String) -> Bool {
        let bytes = text.utf8
        guard bytes.count > 8 else { return false }
        return bytes.allSatisfy { $0 < 0x80 } || text.count > 8
    }

    func validateVerb(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let verb = value.objectValue else { throw .invalidInput("\(path()) must be an object") }
        try Self.noUnknownKeys(verb, allowed: Self.verbKeys, path: path())
        guard let id = verb["id"] else { throw .invalidInput("\(path()).id is required") }
        try Self.iri(id, path: path() + ".id")
        if let display = verb["display"] { try Self.languageMap(display, path: path() + ".display") }
    }

    func validateObject(_ value: JSONValue, path: @autoclosure () -> String, isSubStatement: Bool) throws(TenantScopeError) {
        guard let object = value.objectValue else { throw .invalidInput("\(path()) must be an object") }
        let objectType = try Self.objectType(object, default: "Activity", path: path())
        switch objectType {
        case "Activity":
            try validateActivity(object, path: path())
        case "Agent", "Group":
            try validateActor(value, path: path())
        case "StatementRef":
            try Self.noUnknownKeys(object, allowed: Self.statementRefKeys, path: path())
            guard let id = object["id"] else { throw .invalidInput("\(path()).id is required") }
            try Self.uuid(id, path: path() + ".id")
        case "SubStatement":
            guard !isSubStatement else { throw .invalidInput("\(path()): a SubStatement cannot contain another SubStatement") }
            try validateStatement(object, path: path(), isSubStatement: true)
        default:
            throw .invalidInput("\(path()).objectType must be Activity, Agent, Group, StatementRef or SubStatement")
        }
    }

    func validateActivity(_ activity: JSONObject, path: @autoclosure () -> String) throws(TenantScopeError) {
        try Self.noUnknownKeys(activity, allowed: Self.activityKeys, path: path())
        guard let id = activity["id"] else { throw .invalidInput("\(path()).id is required") }
        try Self.iri(id, path: path() + ".id")
        if let definition = activity["definition"] {
            guard let d = definition.objectValue else { throw .invalidInput("\(path()).definition must be an object") }
            try Self.noUnknownKeys(d, allowed: Self.definitionKeys, path: path() + ".definition")
            if let name = d["name"] { try Self.languageMap(name, path: path() + ".definition.name") }
            if let description = d["description"] { try Self.languageMap(description, path: path() + ".definition.description") }
            if let type = d["type"] { try Self.iri(type, path: path() + ".definition.type") }
            if let moreInfo = d["moreInfo"] { try Self.iri(moreInfo, path: path() + ".definition.moreInfo") }
            if let extensions = d["extensions"] { try Self.extensions(extensions, path: path() + ".definition.extensions") }
            if let interaction = d["interactionType"] {
                guard let text = interaction.stringValue, Self.interactionTypes.contains(text) else {
                    throw .invalidInput("\(path()).definition.interactionType is not a known interaction type")
                }
            } else if let component = Self.interactionComponents.first(where: { d[$0] != nil }) {
                throw .invalidInput("\(path()).definition.\(component) needs definition.interactionType")
            }
        }
    }

    func validateResult(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let result = value.objectValue else { throw .invalidInput("\(path()) must be an object") }
        try Self.noUnknownKeys(result, allowed: Self.resultKeys, path: path())
        for key in ["success", "completion"] {
            if let flag = result[key], flag.boolValue == nil { throw .invalidInput("\(path()).\(key) must be true or false") }
        }
        if let response = result["response"], response.stringValue == nil { throw .invalidInput("\(path()).response must be a string") }
        if let duration = result["duration"] {
            guard let text = duration.stringValue, Self.isDuration(text) else { throw .invalidInput("\(path()).duration must be an ISO 8601 duration") }
        }
        if let extensions = result["extensions"] { try Self.extensions(extensions, path: path() + ".extensions") }
        if let score = result["score"] {
            guard let s = score.objectValue else { throw .invalidInput("\(path()).score must be an object") }
            try Self.noUnknownKeys(s, allowed: Self.scoreKeys, path: path() + ".score")
            var numbers: [String: Double] = [:]
            for key in ["scaled", "raw", "min", "max"] {
                guard let v = s[key] else { continue }
                guard let number = v.numberValue else { throw .invalidInput("\(path()).score.\(key) must be a number") }
                numbers[key] = number
            }
            if let scaled = numbers["scaled"], !(-1...1).contains(scaled) { throw .invalidInput("\(path()).score.scaled must be between -1 and 1") }
            if let min = numbers["min"], let max = numbers["max"], min > max { throw .invalidInput("\(path()).score.min must not exceed max") }
            if let raw = numbers["raw"] {
                if let min = numbers["min"], raw < min { throw .invalidInput("\(path()).score.raw must not be below min") }
                if let max = numbers["max"], raw > max { throw .invalidInput("\(path()).score.raw must not exceed max") }
            }
        }
    }

    func validateContext(_ value: JSONValue, path: @autoclosure () -> String, objectIsActivity: Bool) throws(TenantScopeError) {
        guard let context = value.objectValue else { throw .invalidInput("\(path()) must be an object") }
        try Self.noUnknownKeys(context, allowed: Self.contextKeys, path: path())
        if let registration = context["registration"] { try Self.uuid(registration, path: path() + ".registration") }
        if let instructor = context["instructor"] { try validateActor(instructor, path: path() + ".instructor") }
        if let team = context["team"] {
            guard team.objectValue?["objectType"]?.stringValue == "Group" else { throw .invalidInput("\(path()).team must be a Group") }
            try validateActor(team, path: path() + ".team")
        }
        for key in ["revision", "platform"] where context[key] != nil {
            guard objectIsActivity else { throw .invalidInput("\(path()).\(key) is only allowed when the object is an Activity") }
            guard context[key]?.stringValue != nil else { throw .invalidInput("\(path()).\(key) must be a string") }
        }
        if let language = context["language"] {
            guard let text = language.stringValue, Self.isLanguageTag(text) else { throw .invalidInput("\(path()).language must be an RFC 5646 language tag") }
        }
        if let reference = context["statement"] {
            guard let r = reference.objectValue, r["objectType"]?.stringValue == "StatementRef", let id = r["id"] else {
                throw .invalidInput("\(path()).statement must be a StatementRef")
            }
            try Self.uuid(id, path: path() + ".statement.id")
        }
        if let extensions = context["extensions"] { try Self.extensions(extensions, path: path() + ".extensions") }
        // xAPI 2.0: who else took part, and as what (relevantTypes: IRIs, at least one when present).
        for (key, objectType, member) in Self.contextParticipants {
            guard let value = context[key] else { continue }
            guard let list = value.arrayValue else { throw .invalidInput("\(path()).\(key) must be an array") }
            for (index, entry) in list.enumerated() {
                let entryPath = "\(path()).\(key)[\(index)]"
                guard let e = entry.objectValue else { throw .invalidInput("\(entryPath) must be an object") }
                try Self.noUnknownKeys(e, allowed: ["objectType", member, "relevantTypes"], path: entryPath)
                guard e["objectType"]?.stringValue == objectType else { throw .invalidInput("\(entryPath).objectType must be \(objectType)") }
                guard let actor = e[member] else { throw .invalidInput("\(entryPath).\(member) is required") }
                if member == "group", actor.objectValue?["objectType"]?.stringValue != "Group" {
                    throw .invalidInput("\(entryPath).group must be a Group")
                }
                try validateActor(actor, path: "\(entryPath).\(member)")
                if let types = e["relevantTypes"] {
                    guard let typeList = types.arrayValue, !typeList.isEmpty else {
                        throw .invalidInput("\(entryPath).relevantTypes must be a non-empty array of IRIs")
                    }
                    for (typeIndex, type) in typeList.enumerated() { try Self.iri(type, path: "\(entryPath).relevantTypes[\(typeIndex)]") }
                }
            }
        }
        if let activities = context["contextActivities"] {
            guard let map = activities.objectValue else { throw .invalidInput("\(path()).contextActivities must be an object") }
            for (key, entry) in map {
                guard Self.contextActivityKeys.contains(key) else {
                    throw .invalidInput("\(path()).contextActivities.\(key) is not one of parent, grouping, category, other")
                }
                let list: [JSONValue] = entry.arrayValue ?? [entry]
                for (index, activity) in list.enumerated() {
                    guard let a = activity.objectValue,
                          try Self.objectType(a, default: "Activity", path: "\(path()).contextActivities.\(key)[\(index)]") == "Activity" else {
                        throw .invalidInput("\(path()).contextActivities.\(key)[\(index)] must be an Activity")
                    }
                    try validateActivity(a, path: "\(path()).contextActivities.\(key)[\(index)]")
                }
            }
        }
    }

    // MARK: - Value rules

    static func noUnknownKeys(_ object: JSONObject, allowed: [String], path: @autoclosure () -> String) throws(TenantScopeError) {
        for (key, value) in object {
            guard allowed.contains(key) else { throw .invalidInput("\(path()).\(key) is not a property xAPI defines here") }
            if value.isNull { throw .invalidInput("\(path()).\(key) must not be null") }
        }
    }

    static func uuid(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let text = value.stringValue, UUIDText.parse(text) != nil else {
            throw .invalidInput("\(path()) must be a UUID")
        }
    }

    /// The longest IRI accepted, in UTF-8 bytes. IRIs are indexed (verbs, activities, agents' keys), and
    /// a B-tree entry holds at most about 2,700 bytes; real IRIs are far shorter. Stated in docs/api.md.
    public static let maximumIRIBytes = 2048
    /// The longest `mbox`, account `name` and cohort or region extension value accepted, in UTF-8 bytes.
    public static let maximumIdentifierBytes = 512

    static func iri(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let text = value.stringValue, isIRI(text) else { throw .invalidInput("\(path()) must be an IRI") }
        guard text.utf8.count <= maximumIRIBytes else { throw .invalidInput("\(path()) is longer than \(maximumIRIBytes) bytes") }
    }

    static func identifier(_ text: String, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard text.utf8.count <= maximumIdentifierBytes else {
            throw .invalidInput("\(path()) is longer than \(maximumIdentifierBytes) bytes")
        }
    }

    /// An absolute IRI: a scheme (a letter, then letters, digits, `+`, `-`, `.`; RFC 3987 keeps RFC 3986's
    /// ASCII scheme) and a colon, and no whitespace anywhere. ASCII is checked on bytes; only text with
    /// other characters pays for Unicode's whitespace property.
    static func isIRI(_ text: String) -> Bool {
        let bytes = text.utf8
        guard let colon = bytes.firstIndex(of: UInt8(ascii: ":")), colon != bytes.startIndex else { return false }
        func isLetter(_ byte: UInt8) -> Bool { (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) }
        guard isLetter(bytes[bytes.startIndex]),
              bytes[..<colon].allSatisfy({ isLetter($0) || (0x30...0x39).contains($0) || $0 == 0x2B || $0 == 0x2D || $0 == 0x2E })
        else { return false }
        var highBits: UInt8 = 0
        for byte in bytes {
            if byte <= 0x20 || byte == 0x7F { return false }
            highBits |= byte
        }
        if highBits < 0x80 { return true }
        return !text.unicodeScalars.contains { $0.properties.isWhitespace || $0.value < 0x21 || $0.value == 0x7F }
    }

    static func timestamp(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let text = value.stringValue, ISO8601Timestamp.parse(text) != nil else {
            throw .invalidInput("\(path()) must be an ISO 8601 date-time with a time zone, in years 1 to 9999 (UTC)")
        }
        if text.hasSuffix("-00:00") || text.hasSuffix("-0000") || text.hasSuffix("-00") {
            throw .invalidInput("\(path()) must not use the offset -00:00")
        }
    }

    static func languageMap(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let map = value.objectValue else { throw .invalidInput("\(path()) must be a language map") }
        for (tag, text) in map {
            guard isLanguageTag(tag), text.stringValue != nil else { throw .invalidInput("\(path()) must map RFC 5646 language tags to strings") }
        }
    }

    static func extensions(_ value: JSONValue, path: @autoclosure () -> String) throws(TenantScopeError) {
        guard let map = value.objectValue else { throw .invalidInput("\(path()) must be an object") }
        for key in map.keys { try iri(.string(key), path: "\(path()) key '\(key)'") }
    }

    /// A primary subtag of 1–8 ASCII letters, then any number of `-` and 1–8 ASCII letters or digits. On bytes: every
    /// language map key of every statement is checked, and Character properties cost a Unicode table lookup each.
    static func isLanguageTag(_ tag: String) -> Bool {
        var length = 0
        var inFirst = true
        for byte in tag.utf8 {
            if byte == UInt8(ascii: "-") {
                guard length > 0 else { return false }
                length = 0
                inFirst = false
                continue
            }
            let isLetter = (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte | 0x20)
            let isDigit = (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
            guard isLetter || (!inFirst && isDigit) else { return false }
            length += 1
            guard length <= 8 else { return false }
        }
        return length > 0
    }

    static func isDuration(_ text: String) -> Bool {
        // PnYnMnDTnHnMnS, or PnW alone (ISO 8601:2004 4.4.3.2 does not mix weeks with other units),
        // with optional fractions. `\z`, not `$` (which ICU also matches before a final line break), and ASCII digits,
        // not `\d` (which ICU matches in every script).
        let weeks = #"^P[0-9]+(\.[0-9]+)?W\z"#
        let pattern = #"^P(?!\z)([0-9]+(\.[0-9]+)?Y)?([0-9]+(\.[0-9]+)?M)?([0-9]+(\.[0-9]+)?D)?(T(?=[0-9])([0-9]+(\.[0-9]+)?H)?([0-9]+(\.[0-9]+)?M)?([0-9]+(\.[0-9]+)?S)?)?\z"#
        return text.range(of: weeks, options: .regularExpression) != nil || text.range(of: pattern, options: .regularExpression) != nil
    }
}
