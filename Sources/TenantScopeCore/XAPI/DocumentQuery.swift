import Foundation

/// The three xAPI 1.0.3 document resources (Communication 2.3, 2.6, 2.7). The raw value is what the
/// `kind` column of `app.xapi_documents` holds.
public enum DocumentKind: String, Sendable, Hashable, CaseIterable {
    case state
    case activityProfile = "activity_profile"
    case agentProfile = "agent_profile"

    /// The parameter that names one document of this resource.
    public var idParameter: String { self == .state ? "stateId" : "profileId" }

    /// Activity and Agent Profiles need `If-Match`/`If-None-Match` to overwrite with PUT (Communication
    /// 3.1); the State resource is written by one learner's session and is simply replaced.
    public var requiresConcurrencyHeaders: Bool { self != .state }

    var parameters: Set<String> {
        switch self {
        case .state: ["activityId", "agent", "registration", "stateId", "since"]
        case .activityProfile: ["activityId", "profileId", "since"]
        case .agentProfile: ["agent", "profileId", "since"]
        }
    }
}

/// Which set of documents a request is about: everything of the document key except the document id.
/// Absent parts are empty strings (never NULL), so the tuple can be a primary key.
public struct DocumentAddress: Sendable, Hashable {
    public var kind: DocumentKind
    public var activityID: String
    /// The agent's canonical key, the same string as a statement's `actor_key` (``StatementFacts/actorKey(_:)``).
    public var agentKey: String
    /// A lowercased UUID, or empty.
    public var registration: String

    public init(kind: DocumentKind, activityID: String = "", agentKey: String = "", registration: String = "") {
        self.kind = kind
        self.activityID = activityID
        self.agentKey = agentKey
        self.registration = registration
    }
}

/// A request to a document resource, parsed and checked. The tenant is never part of it.
public struct DocumentQuery: Sendable, Hashable {
    public enum Method: Sendable { case read, write, delete }

    /// Longest accepted `activityId`, agent key and document id (UTF-8 bytes): together they form a
    /// b-tree key, which PostgreSQL caps at about 2.7 kB.
    public static let maximumActivityIDBytes = 1_000
    public static let maximumAgentKeyBytes = 1_000
    public static let maximumDocumentIDBytes = 500

    public var address: DocumentAddress
    /// The document's id (`stateId`/`profileId`); nil asks for, or deletes, every document at the address.
    public var documentID: String?
    /// `since` as UTC text with microseconds, for the list of ids.
    public var since: String?

    public static func parse(_ kind: DocumentKind, method: Method, parameters: [(String, String)]) throws(TenantScopeError) -> DocumentQuery {
        let values = try unique(parameters, allowed: kind.parameters)
        var address = DocumentAddress(kind: kind)
        if kind != .agentProfile {
            guard let activity = values["activityId"] else { throw .invalidInput("the activityId parameter is required") }
            address.activityID = try activityID(activity)
        }
        if kind != .activityProfile {
            guard let agent = values["agent"] else { throw .invalidInput("the agent parameter is required") }
            address.agentKey = try agentKey(agent)
        }
        if let registration = values["registration"] {
            guard let id = UUIDText.parse(registration) else { throw .invalidInput("registration must be a UUID") }
            address.registration = id.uuidString.lowercased()
        }
        var query = DocumentQuery(address: address)
        if let id = values[kind.idParameter] {
            guard !id.isEmpty, id.utf8.count <= maximumDocumentIDBytes else {
                throw .invalidInput("\(kind.idParameter) must be 1 to \(maximumDocumentIDBytes) bytes")
            }
            query.documentID = id
        }
        switch method {
        case .write:
            guard query.documentID != nil else { throw .invalidInput("the \(kind.idParameter) parameter is required") }
        case .delete:
            // Only the State resource deletes a whole set; a profile is deleted one at a time.
            guard query.documentID != nil || kind == .state else { throw .invalidInput("the \(kind.idParameter) parameter is required") }
        case .read:
            break
        }
        if let since = values["since"] {
            guard method == .read, query.documentID == nil else {
                throw .invalidInput("since is only taken when listing ids (GET without \(kind.idParameter))")
            }
            guard let date = ISO8601Timestamp.parse(since) else {
                throw .invalidInput("since must be an ISO 8601 date-time with a time zone, in years 1 to 9999 (UTC)")
            }
            query.since = ISO8601Timestamp.formatMicroseconds(date)
        }
        return query
    }

    /// An `activityId` parameter, checked: an IRI, within the length the document key allows.
    public static func activityID(_ text: String) throws(TenantScopeError) -> String {
        try StatementValidator.iri(.string(text), path: "activityId")
        guard text.utf8.count <= maximumActivityIDBytes else { throw .invalidInput("activityId is longer than \(maximumActivityIDBytes) bytes") }
        return text
    }

    /// The canonical key of an `agent` parameter: a JSON Agent (or identified Group) with exactly one
    /// identifier, checked as a statement's actor is. The same rule as the statements resource's filter.
    public static func agentKey(_ text: String) throws(TenantScopeError) -> String {
        try key(ofChecked: agentObject(text), name: "agent")
    }

    /// The canonical key of an agent given as JSON elsewhere (a learner export's `learner`), under the same
    /// rule; `name` names it in errors. Every key is one the tables' agent-key columns hold (1000 bytes) unless
    /// `maximumBytes` says otherwise (an erasure looks up statements, whose keys go to ``StatementFacts/maximumKeyBytes``).
    public static func agentKey(_ agent: JSONValue, name: String, maximumBytes: Int = maximumAgentKeyBytes) throws(TenantScopeError) -> String {
        try StatementValidator(authority: [:]).validateActor(agent, path: name)
        guard let object = agent.objectValue else { throw .invalidInput("\(name) must be a JSON Agent or identified Group object") }
        return try key(ofChecked: object, name: name, maximumBytes: maximumBytes)
    }

    private static func key(ofChecked object: JSONObject, name: String, maximumBytes: Int = maximumAgentKeyBytes) throws(TenantScopeError) -> String {
        guard let key = StatementFacts.actorKey(object), AgentIdentifier(object) != nil else {
            throw .invalidInput("\(name) must carry exactly one identifier")
        }
        guard key.utf8.count <= maximumBytes else { throw .invalidInput("\(name)'s identifier is longer than \(maximumBytes) bytes") }
        return key
    }

    /// The `agent` parameter as a checked JSON object.
    public static func agentObject(_ text: String) throws(TenantScopeError) -> JSONObject {
        guard let value = try? JSONParser.parse(Array(text.utf8)), let object = value.objectValue else {
            throw .invalidInput("agent must be a JSON Agent or identified Group object")
        }
        try StatementValidator(authority: [:]).validateActor(value, path: "agent")
        return object
    }

    /// Parameters as a dictionary: each at most once, none unknown.
    public static func unique(_ parameters: [(String, String)], allowed: Set<String>) throws(TenantScopeError) -> [String: String] {
        var values: [String: String] = [:]
        for (name, value) in parameters {
            guard allowed.contains(name) else { throw .invalidInput("unknown parameter \(name)") }
            guard values[name] == nil else { throw .invalidInput("parameter \(name) is given more than once") }
            values[name] = value
        }
        return values
    }
}
