// Outside `JSON/`, which scripts/fuzz-json.sh compiles on its own (no other core type, no Foundation).
extension JSONParser {
    /// The body of a request to one of the server's own APIs (product events, exports, export schedules, ad-hoc SQL,
    /// learner erasure) as JSON, or a 400 that says where it stops being JSON (`what` names the body in it). A member
    /// named twice is refused, not read as its last value: such a body says one thing or nothing. xAPI statements keep
    /// `jsonb`'s last-value rule instead (architecture decisions 20 and 100).
    public static func requestBody(_ body: some Collection<UInt8>, named what: String = "the request body") throws(TenantScopeError) -> JSONValue {
        do {
            return try parse(body, refusingDuplicateKeys: true)
        } catch {
            throw .invalidInput("\(what) is not valid JSON: \(error)")
        }
    }
}
