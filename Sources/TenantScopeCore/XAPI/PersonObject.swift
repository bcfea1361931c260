/// The Person object the Agents resource answers (xAPI 1.0.3 Communication 2.4): everything this tenant's
/// LRS knows of an agent. TenantScope links no identities to each other, so a Person holds the agent's
/// own identifier and the names its statements gave it.
public enum PersonObject {
    public static func make(agent: JSONObject, knownNames: [String]) -> JSONValue {
        var person: JSONObject = ["objectType": "Person"]
        var names = knownNames
        if let name = agent["name"]?.stringValue, !names.contains(name) { names.insert(name, at: 0) }
        if !names.isEmpty { person["name"] = .array(names.map(JSONValue.string)) }
        for key in ["mbox", "mbox_sha1sum", "openid", "account"] {
            if let value = agent[key] { person[key] = .array([value]) }
        }
        return .object(person)
    }
}
