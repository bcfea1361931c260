import TenantScopeCore

/// The shape of the params of the MCP methods this server answers, checked before the SDK decodes them: the SDK
/// answers a decoding failure as `-32603 Internal error`, a server failure, where the client sent invalid params
/// (`-32602`). Methods not named here are left to the SDK.
enum MCPParams {
    /// What is wrong with `params` for `method` (naming the member), or nil.
    static func problem(method: String, params: JSONValue?) -> String? {
        if let params, params.objectValue == nil { return "params must be an object" }
        let members = params?.objectValue ?? [:]
        switch method {
        case "tools/call":
            return string("name", in: members, path: "params") ?? object("arguments", in: members, path: "params", optional: true)
        case "resources/read":
            return string("uri", in: members, path: "params")
        case "initialize":
            if let problem = string("protocolVersion", in: members, path: "params") ?? object("capabilities", in: members, path: "params")
                ?? object("clientInfo", in: members, path: "params") {
                return problem
            }
            let info = members["clientInfo"]?.objectValue ?? [:]
            return string("name", in: info, path: "params.clientInfo") ?? string("version", in: info, path: "params.clientInfo")
        default:
            return nil
        }
    }

    private static func string(_ name: String, in members: JSONObject, path: String) -> String? {
        if case .string? = members[name] { return nil }
        return "\(path).\(name) must be a string"
    }

    private static func object(_ name: String, in members: JSONObject, path: String, optional: Bool = false) -> String? {
        switch members[name] {
        case .object?: nil
        case nil where optional: nil
        default: "\(path).\(name) must be an object"
        }
    }
}
