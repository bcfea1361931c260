/// The Activity object the Activities resource answers (xAPI 1.0.3 Communication 2.5): the id, and the
/// definitions of this tenant's statements about it, merged.
public enum ActivityObject {
    /// Language maps gain languages from every statement; the other properties are the newest
    /// statement's. `definitions` are oldest first, as the statements were stored.
    public static func merge(id: String, definitions: [JSONValue]) -> JSONValue {
        var merged: JSONObject = [:]
        for case .object(let definition) in definitions {
            for (key, value) in definition {
                if ["name", "description", "extensions"].contains(key), case .object(let old)? = merged[key], case .object(let new) = value {
                    merged[key] = .object(old.merging(new) { _, newer in newer })
                } else {
                    merged[key] = value
                }
            }
        }
        var activity: JSONObject = ["objectType": "Activity", "id": .string(id)]
        if !merged.isEmpty { activity["definition"] = .object(merged) }
        return .object(activity)
    }
}
