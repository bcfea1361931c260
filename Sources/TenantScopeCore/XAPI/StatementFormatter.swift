import Foundation

/// Applies the `format` parameter of a statement query to a stored statement.
///
/// The stored statement is re-read with ``JSONParser`` and re-printed with the writer, which keep every
/// number literal as it is: `ids` and `canonical` return numbers exactly as `exact` does (as `jsonb`
/// prints them), never rounded through a Double.
public enum StatementFormatter {
    /// Returns `json` (a stored statement) in `format`. `exact` returns it unchanged.
    /// - Parameter languages: the request's `Accept-Language` preferences, best first (for `canonical`).
    public static func apply(_ format: StatementFormat, to json: String, languages: [String] = []) -> String {
        guard format != .exact, let statement = (try? JSONParser.parse(json.utf8))?.objectValue else { return json }
        let transformed = format == .ids ? JSONValue.object(idsOnly(statement: statement)) : canonical(.object(statement), languages: languages)
        return transformed.jsonText
    }

    /// Parses `Accept-Language` (`de-CH, de;q=0.8, en;q=0.5`) into tags, best first.
    public static func languagePreferences(_ header: String?) -> [String] {
        guard let header else { return [] }
        return header.split(separator: ",").compactMap { part -> (String, Double)? in
            let pieces = part.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = pieces.first, !tag.isEmpty, tag != "*" else { return nil }
            let quality = pieces.dropFirst().first { $0.hasPrefix("q=") }.flatMap { Double($0.dropFirst(2)) } ?? 1
            return (tag, quality)
        }.enumerated().sorted { ($0.element.1, -$0.offset) > ($1.element.1, -$1.offset) }.map(\.element.0)
    }

    // MARK: - ids

    static func idsOnly(statement: JSONObject) -> JSONObject {
        var s = statement
        if let actor = s["actor"]?.objectValue { s["actor"] = .object(agentIDs(actor)) }
        if let authority = s["authority"]?.objectValue { s["authority"] = .object(agentIDs(authority)) }
        if let verb = s["verb"]?.objectValue { s["verb"] = .object(verb.filter { $0.key == "id" }) }
        if let object = s["object"]?.objectValue {
            switch object["objectType"]?.stringValue ?? "Activity" {
            case "Activity": s["object"] = .object(activityIDs(object))
            case "Agent", "Group": s["object"] = .object(agentIDs(object))
            case "SubStatement": s["object"] = .object(idsOnly(statement: object))
            default: break
            }
        }
        if var context = s["context"]?.objectValue {
            for key in ["instructor", "team"] {
                if let agent = context[key]?.objectValue { context[key] = .object(agentIDs(agent)) }
            }
            if var activities = context["contextActivities"]?.objectValue {
                for (key, value) in activities {
                    if let list = objects(value) { activities[key] = .array(list.map { .object(activityIDs($0)) }) }
                    else if let single = value.objectValue { activities[key] = [.object(activityIDs(single))] }
                }
                context["contextActivities"] = .object(activities)
            }
            s["context"] = .object(context)
        }
        return s
    }

    /// An Activity is identified by its id alone (xAPI 1.0.3 Communication 2.1.3: "only include
    /// identifiers"); `objectType` is not an identifier, and ADL's suite (XAPI-00171) expects `id` only.
    static func activityIDs(_ activity: JSONObject) -> JSONObject {
        ["id": activity["id"] ?? ""]
    }

    static func agentIDs(_ agent: JSONObject) -> JSONObject {
        var reduced = agent.filter { ["objectType", "mbox", "mbox_sha1sum", "openid", "account"].contains($0.key) }
        // An anonymous group is identified by its members.
        if let members = agent["member"].flatMap(objects), !["mbox", "mbox_sha1sum", "openid", "account"].contains(where: { agent[$0] != nil }) {
            reduced["member"] = .array(members.map { .object(agentIDs($0)) })
        }
        return reduced
    }

    /// The elements of an array that holds only objects; nil for anything else.
    private static func objects(_ value: JSONValue) -> [JSONObject]? {
        guard let elements = value.arrayValue else { return nil }
        let objects = elements.compactMap(\.objectValue)
        return objects.count == elements.count ? objects : nil
    }

    // MARK: - canonical

    static let languageMapKeys: Set<String> = ["display", "name", "description"]

    static func canonical(_ value: JSONValue, languages: [String]) -> JSONValue {
        switch value {
        case .array(let elements):
            return .array(elements.map { canonical($0, languages: languages) })
        case .object(let members):
            var result: JSONObject = [:]
            for (key, child) in members {
                if languageMapKeys.contains(key), let map = child.objectValue, !map.isEmpty, map.values.allSatisfy({ $0.stringValue != nil }) {
                    result[key] = .object(reduce(map, languages: languages))
                } else {
                    result[key] = canonical(child, languages: languages)
                }
            }
            return .object(result)
        default:
            return value
        }
    }

    /// One entry of a language map: the best match for the preferences, else `en-US`/`en`, else the first tag.
    static func reduce(_ map: JSONObject, languages: [String]) -> JSONObject {
        let lowered = Dictionary(map.keys.map { ($0.lowercased(), $0) }, uniquingKeysWith: { first, _ in first })
        for preference in languages + ["en-US", "en"] {
            let wanted = preference.lowercased()
            if let exact = lowered[wanted] { return [exact: map[exact]!] }
            if let prefixMatch = map.keys.sorted().first(where: { $0.lowercased().hasPrefix(wanted + "-") }) {
                return [prefixMatch: map[prefixMatch]!]
            }
        }
        let first = map.keys.sorted()[0]
        return [first: map[first]!]
    }
}
