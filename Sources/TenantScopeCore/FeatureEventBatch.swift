import Foundation

/// Parses the body of `POST /api/v1/events`: `{"events": [...]}` or a bare array of
/// `{"feature": "reports.export", "actor": "user-17", "occurred_at": "2026-11-24T09:30:00Z", "id": "<uuid, optional>"}`.
///
/// The body goes through the same ``JSONParser`` as statements, so it is refused on the same grounds
/// (`\u0000`, numbers PostgreSQL cannot store, invalid UTF-8, deep nesting) with the same message.
/// All-or-nothing: one bad event refuses the batch, naming its index.
public enum FeatureEventBatch {
    public static let maximumEvents = 10_000

    public static func parse(_ body: Data, now: Date = Date()) throws(TenantScopeError) -> [FeatureEvent] {
        let decoded = try JSONParser.requestBody(body)
        guard let list = decoded.arrayValue ?? decoded["events"]?.arrayValue else {
            throw .invalidInput("the body must be a JSON array of events or an object with an \"events\" array")
        }
        // The object holds the events and nothing else: a member it does not know (a `tenant`, say) is refused, not ignored.
        if let unknown = decoded.objectValue?.keys.first(where: { $0 != "events" }) {
            throw .invalidInput("the body's member '\(unknown.prefix(64))' is not accepted; the body is {\"events\": [...]}")
        }
        guard !list.isEmpty else { throw .invalidInput("the batch holds no events") }
        guard list.count <= maximumEvents else { throw .invalidInput("a batch holds at most \(maximumEvents) events; split it") }
        var seen = Set<UUID>()
        return try list.enumerated().map { (index, item) throws(TenantScopeError) -> FeatureEvent in
            let path = "events[\(index)]"
            guard let event = item.objectValue else { throw .invalidInput("\(path) must be an object") }
            if let unknown = Set(event.keys).subtracting(["id", "feature", "actor", "occurred_at"]).sorted().first {
                throw .invalidInput("\(path).\(unknown) is not a known property (id, feature, actor, occurred_at)")
            }
            guard let feature = event["feature"]?.stringValue, isFeatureKey(feature) else {
                throw .invalidInput("\(path).feature must be a feature key: lower-case letters, digits, '_', '.', '-', starting with a letter, at most 64 characters")
            }
            guard let actor = event["actor"]?.stringValue, (1...200).contains(actor.count) else {
                throw .invalidInput("\(path).actor must be a string of 1 to 200 characters")
            }
            guard let text = event["occurred_at"]?.stringValue, let occurredAt = ISO8601Timestamp.parse(text) else {
                throw .invalidInput("\(path).occurred_at must be an ISO 8601 date-time with a time zone")
            }
            guard occurredAt <= now.addingTimeInterval(300) else { throw .invalidInput("\(path).occurred_at is in the future") }
            var id = RandomUUID.make()
            if let given = event["id"] {
                guard let parsed = given.stringValue.flatMap(UUID.init(uuidString:)) else { throw .invalidInput("\(path).id must be a UUID") }
                id = parsed
            }
            guard seen.insert(id).inserted else { throw .invalidInput("\(path).id repeats an earlier event of the batch") }
            return FeatureEvent(id: id, featureKey: feature, actor: actor, occurredAt: occurredAt)
        }
    }

    /// Mirrors the `feature_key` CHECK constraint of `app.feature_events`.
    static func isFeatureKey(_ key: String) -> Bool {
        guard let first = key.first, first.isASCII, first.isLowercase, key.count <= 64 else { return false }
        return key.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber || "_.-".contains($0)) }
    }
}
