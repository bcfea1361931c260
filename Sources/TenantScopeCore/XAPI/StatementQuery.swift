import Foundation

/// A `GET /xAPI/statements` request, parsed and checked: a single statement by id, or a filtered page.
///
/// The tenant is never part of it: the store runs every query in the credential's tenant scope.
public enum StatementQuery: Sendable, Hashable {
    /// `attachments`: answer `multipart/mixed` with the statement's attachment content.
    case single(id: UUID, voided: Bool, format: StatementFormat, attachments: Bool)
    case filter(StatementFilter)
    /// A `more` cursor from an earlier page, still sealed: ``StatementCursorSigner`` opens it for the
    /// requester's tenant.
    case continuation(String)

    public static let defaultLimit = 100
    public static let maximumLimit = 500

    static let filterParameters: Set<String> = [
        "agent", "verb", "activity", "registration", "related_activities", "related_agents", "since", "until",
        "limit", "ascending", "format", "attachments",
    ]

    /// Parses the query parameters; `more` (a cursor from an earlier page) stands alone.
    public static func parse(_ parameters: [(String, String)]) throws(TenantScopeError) -> StatementQuery {
        var values: [String: String] = [:]
        for (name, value) in parameters {
            guard values[name] == nil else { throw .invalidInput("parameter \(name) is given more than once") }
            values[name] = value
        }
        if let more = values["more"] {
            guard values.count == 1 else { throw .invalidInput("more cannot be combined with other parameters") }
            return .continuation(more)
        }
        var format = StatementFormat.exact
        if let text = values["format"] { format = try StatementFormat.parse(text) }
        let attachments = try values["attachments"].map { text throws(TenantScopeError) in try bool(text, name: "attachments") } ?? false
        for key in ["statementId", "voidedStatementId"] {
            guard let text = values[key] else { continue }
            let others = Set(values.keys).subtracting([key, "format", "attachments"])
            guard others.isEmpty else {
                throw .invalidInput("\(key) cannot be combined with \(others.sorted().joined(separator: ", "))")
            }
            guard let id = UUIDText.parse(text) else { throw .invalidInput("\(key) must be a UUID") }
            return .single(id: id, voided: key == "voidedStatementId", format: format, attachments: attachments)
        }
        if let unknown = Set(values.keys).subtracting(filterParameters).sorted().first {
            throw .invalidInput("unknown parameter \(unknown)")
        }

        var filter = StatementFilter(format: format)
        filter.attachments = attachments
        if let agent = values["agent"] {
            guard let value = try? JSONParser.parse(Array(agent.utf8)), let object = value.objectValue else {
                throw .invalidInput("agent must be a JSON Agent or identified Group object")
            }
            try StatementValidator(authority: [:]).validateActor(value, path: "agent")
            guard let key = StatementFacts.actorKey(object), let identifier = AgentIdentifier(object) else {
                throw .invalidInput("agent must carry exactly one identifier")
            }
            filter.agentKey = key
            filter.agentIdentifier = identifier.json
        }
        if let verb = values["verb"] {
            try StatementValidator.iri(.string(verb), path: "verb")
            filter.verb = verb
        }
        if let activity = values["activity"] {
            try StatementValidator.iri(.string(activity), path: "activity")
            filter.activity = activity
        }
        if let registration = values["registration"] {
            guard let id = UUIDText.parse(registration) else { throw .invalidInput("registration must be a UUID") }
            filter.registration = id
        }
        func flag(_ name: String) throws(TenantScopeError) -> Bool {
            guard let text = values[name] else { return false }
            return try bool(text, name: name)
        }
        filter.relatedActivities = try flag("related_activities")
        filter.relatedAgents = try flag("related_agents")
        filter.ascending = try flag("ascending")
        for key in ["since", "until"] {
            guard let text = values[key] else { continue }
            guard let date = ISO8601Timestamp.parse(text) else {
                throw .invalidInput("\(key) must be an ISO 8601 date-time with a time zone, in years 1 to 9999 (UTC)")
            }
            let normalized = ISO8601Timestamp.formatMicroseconds(date)
            if key == "since" { filter.since = normalized } else { filter.until = normalized }
        }
        if let text = values["limit"] {
            guard let limit = Int(text), limit >= 0 else { throw .invalidInput("limit must be a non-negative integer") }
            filter.limit = limit == 0 ? maximumLimit : min(limit, maximumLimit)
        }
        return .filter(filter)
    }

    static func bool(_ text: String, name: String) throws(TenantScopeError) -> Bool {
        switch text.lowercased() {
        case "true": return true
        case "false": return false
        default: throw .invalidInput("\(name) must be true or false")
        }
    }
}

/// How statements are returned: `exact` as stored, `ids` with agents, activities and verbs reduced to
/// their identifiers, `canonical` with each language map reduced to one language.
public enum StatementFormat: String, Sendable, Hashable, Codable {
    case exact, ids, canonical

    static func parse(_ text: String) throws(TenantScopeError) -> StatementFormat {
        guard let format = StatementFormat(rawValue: text) else { throw .invalidInput("format must be exact, ids or canonical") }
        return format
    }
}

/// The filters of a statement query and the position of the page after which to continue.
public struct StatementFilter: Sendable, Hashable, Codable {
    public var agentKey: String?
    /// The agent's identifying property alone (e.g. `{"mbox":"mailto:a@b.example"}`), as JSON, for
    /// `related_agents` containment matches anywhere in a statement.
    public var agentIdentifier: String?
    public var verb: String?
    public var activity: String?
    public var registration: UUID?
    public var relatedActivities = false
    public var relatedAgents = false
    /// `since`/`until` as UTC text with microseconds, as PostgreSQL compares them.
    public var since: String?
    public var until: String?
    public var limit = StatementQuery.defaultLimit
    public var ascending = false
    public var format: StatementFormat
    /// Whether pages are `multipart/mixed` with the statements' attachment content (kept in the cursor,
    /// as `more` stands alone).
    public var attachments = false
    /// Keyset position: the last (stored, id) of the previous page, `stored` as PostgreSQL printed it.
    public var afterStored: String?
    public var afterID: UUID?

    public init(format: StatementFormat = .exact) {
        self.format = format
    }

    /// The same filter, continuing after the given last row (a keyset position: `stored` as PostgreSQL
    /// printed it, and the id).
    public func continuing(afterStored stored: String, id: UUID) -> StatementFilter {
        var next = self
        next.afterStored = stored
        next.afterID = id
        return next
    }

    /// Whether a filter read back from a cursor is one this server could have written.
    var isWithinBounds: Bool {
        (1...StatementQuery.maximumLimit).contains(limit)
            && [since, until, afterStored].allSatisfy { $0.map { ISO8601Timestamp.parse($0) != nil } ?? true }
            && (afterStored == nil) == (afterID == nil)
    }
}

/// An agent's inverse functional identifier on its own.
struct AgentIdentifier {
    let json: String

    init?(_ agent: JSONObject) {
        for key in ["mbox", "mbox_sha1sum", "openid", "account"] {
            if let value = agent[key] {
                json = JSONValue.object([key: value]).jsonText
                return
            }
        }
        return nil
    }
}

extension StatementFilter {
    enum CodingKeys: String, CodingKey {
        case agentKey, agentIdentifier, verb, activity, registration, relatedActivities, relatedAgents, since, until, limit,
             ascending, format, attachments, afterStored, afterID
    }

    /// Decodes a cursor's filter. `attachments` may be absent: cursors sealed before it existed (they
    /// never expire) still open, as JSON pages.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(format: try c.decode(StatementFormat.self, forKey: .format))
        agentKey = try c.decodeIfPresent(String.self, forKey: .agentKey)
        agentIdentifier = try c.decodeIfPresent(String.self, forKey: .agentIdentifier)
        verb = try c.decodeIfPresent(String.self, forKey: .verb)
        activity = try c.decodeIfPresent(String.self, forKey: .activity)
        registration = try c.decodeIfPresent(UUID.self, forKey: .registration)
        relatedActivities = try c.decode(Bool.self, forKey: .relatedActivities)
        relatedAgents = try c.decode(Bool.self, forKey: .relatedAgents)
        since = try c.decodeIfPresent(String.self, forKey: .since)
        until = try c.decodeIfPresent(String.self, forKey: .until)
        limit = try c.decode(Int.self, forKey: .limit)
        ascending = try c.decode(Bool.self, forKey: .ascending)
        attachments = try c.decodeIfPresent(Bool.self, forKey: .attachments) ?? false
        afterStored = try c.decodeIfPresent(String.self, forKey: .afterStored)
        afterID = try c.decodeIfPresent(UUID.self, forKey: .afterID)
    }
}
