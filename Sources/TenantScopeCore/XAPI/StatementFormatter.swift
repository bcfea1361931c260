import Foundation

/// Applies the `format` parameter of a statement query to a stored statement.
public enum StatementFormatter {
    /// Returns `json` (a stored statement) in `format`. `exact` returns it unchanged.
    /// - Parameter languages: the request's `Accept-Language` preferences, best first (for `canonical`).
    public static func apply(_ format: StatementFormat, to json: String, languages: [String] = []) -> String {
        guard format != .exact,
              let statement = (try? JSONSerialization.jsonObject(with: Data(json.utf8))) as? [String: Any]
        else { return json }
        let transformed = format == .ids ? idsOnly(statement: statement) : canonical(statement, languages: languages)
        guard let data = try? JSONSerialization.data(withJSONObject: transformed, options: [.withoutEscapingSlashes]) else { return json }
        return String(decoding: data, as: UTF8.self)
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

    static func idsOnly(statement: [String: Any]) -> [String: Any] {
        var s = statement
        if let actor = s["actor"] as? [String: Any] { s["actor"] = agentIDs(actor) }
        if let authority = s["authority"] as? [String: Any] { s["authority"] = agentIDs(authority) }
        if let verb = s["verb"] as? [String: Any] { s["verb"] = verb.filter { $0.key == "id" } }
        if let object = s["object"] as? [String: Any] {
            switch object["objectType"] as? String ?? "Activity" {
            case "Activity": s["object"] = activityIDs(object)
            case "Agent", "Group": s["object"] = agentIDs(object)
            case "SubStatement": s["object"] = idsOnly(statement: object)
            default: break
            }
        }
        if var context = s["context"] as? [String: Any] {
            for key in ["instructor", "team"] {
                if let agent = context[key] as? [String: Any] { context[key] = agentIDs(agent) }
            }
            if var activities = context["contextActivities"] as? [String: Any] {
                for (key, value) in activities {
                    if let list = value as? [[String: Any]] { activities[key] = list.map(activityIDs) }
                    else if let single = value as? [String: Any] { activities[key] = [activityIDs(single)] }
                }
                context["contextActivities"] = activities
            }
            s["context"] = context
        }
        return s
    }

    static func activityIDs(_ activity: [String: Any]) -> [String: Any] {
        var reduced: [String: Any] = ["id": activity["id"] ?? ""]
        if activity["objectType"] != nil { reduced["objectType"] = "Activity" }
        return reduced
    }

    static func agentIDs(_ agent: [String: Any]) -> [String: Any] {
        var reduced = agent.filter { ["objectType", "mbox", "mbox_sha1sum", "openid", "account"].contains($0.key) }
        // An anonymous group is identified by its members.
        if let members = agent["member"] as? [[String: Any]], !["mbox", "mbox_sha1sum", "openid", "account"].contains(where: { agent[$0] != nil }) {
            reduced["member"] = members.map(agentIDs)
        }
        return reduced
    }

    // MARK: - canonical

    static let languageMapKeys: Set<String> = ["display", "name", "description"]

    static func canonical(_ value: Any, languages: [String]) -> Any {
        if let list = value as? [Any] { return list.map { canonical($0, languages: languages) } }
        guard let object = value as? [String: Any] else { return value }
        var result: [String: Any] = [:]
        for (key, child) in object {
            if languageMapKeys.contains(key), let map = child as? [String: Any], !map.isEmpty, map.values.allSatisfy({ $0 is String }) {
                result[key] = reduce(map, languages: languages)
            } else {
                result[key] = canonical(child, languages: languages)
            }
        }
        return result
    }

    /// One entry of a language map: the best match for the preferences, else `en-US`/`en`, else the first tag.
    static func reduce(_ map: [String: Any], languages: [String]) -> [String: Any] {
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
