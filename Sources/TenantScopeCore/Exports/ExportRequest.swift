import Foundation

/// A validated request for an export job (the body of `POST /api/v1/exports`, or `tenantscope export create`).
///
/// Checked in full before a job is queued, so a job never fails for a reason the request could have
/// shown: an unknown report or parameter, a format the source cannot be written in, a role that may not
/// run the report, a time range backwards. The tenant is never part of it: it comes from the credential.
public struct ExportRequest: Sendable, Hashable {
    public var source: ExportSource
    public var format: ExportFormat
    public var compressed: Bool

    /// The largest body accepted.
    public static let maximumBodyBytes = 16 * 1024

    public init(source: ExportSource, format: ExportFormat, compressed: Bool) {
        self.source = source
        self.format = format
        self.compressed = compressed
    }

    /// Parses and validates a JSON body such as
    /// `{"report": "active_learners", "parameters": {"days": 30}, "format": "csv", "gzip": true}`,
    /// `{"statements": {"since": "2026-01-01T00:00:00Z"}, "format": "ndjson"}` or
    /// `{"learner": {"mbox": "mailto:ada@example.com"}, "format": "ndjson"}` (tenant admins only) or
    /// `{"custom_report": "course_list", "format": "csv"}` (an approved custom report; the server checks that it is).
    public static func parse(
        _ body: some Collection<UInt8>, catalog: ReportCatalog, role: TenantUser.Role, today: String
    ) throws(TenantScopeError) -> ExportRequest {
        guard body.count <= maximumBodyBytes else {
            throw .invalidInput("the export request is larger than \(maximumBodyBytes) bytes")
        }
        let document = try JSONParser.requestBody(body, named: "the export request")
        guard let object = document.objectValue else { throw .invalidInput("the export request must be a JSON object") }
        let known: Set<String> = ["report", "parameters", "statements", "learner", "custom_report", "format", "gzip"]
        if let unknown = object.keys.sorted().first(where: { !known.contains($0) }) {
            throw .invalidInput("the export request has no field '\(unknown)' (fields: \(known.sorted().joined(separator: ", ")))")
        }
        let sources = sourceFields.filter { object[$0] != nil }
        guard sources.count == 1 else {
            throw .invalidInput("say what to export with exactly one of 'report', 'statements', 'learner' or 'custom_report'")
        }
        if object["parameters"] != nil, sources[0] != "report" {
            throw .invalidInput("'parameters' belong to a report export")
        }

        let source: ExportSource
        switch sources[0] {
        case "report":
            guard let name = object["report"]?.stringValue else { throw .invalidInput("'report' must be a report name (a string)") }
            let parameters = try Self.parameters(object["parameters"])
            try Self.validate(report: name, parameters: parameters, catalog: catalog, role: role, today: today)
            source = .report(name: name, parameters: parameters)
        case "statements":
            guard role == .admin else { throw .forbidden("exporting the tenant's raw statements is for tenant admins only") }
            guard let range = object["statements"]?.objectValue else {
                throw .invalidInput("'statements' must be an object, e.g. {\"since\": \"2026-01-01T00:00:00Z\"} or {}")
            }
            if let unknown = range.keys.sorted().first(where: { $0 != "since" && $0 != "until" }) {
                throw .invalidInput("'statements' takes 'since' and 'until' only, not '\(unknown)'")
            }
            let since = try Self.timestamp(range["since"], name: "since")
            let until = try Self.timestamp(range["until"], name: "until")
            if let since, let until, since >= until { throw .invalidInput("'since' must be before 'until'") }
            source = .statements(since: since, until: until)
        case "custom_report":
            guard let name = object["custom_report"]?.stringValue, name.range(of: #"^[a-z][a-z0-9_]{0,62}\z"#, options: .regularExpression) != nil
            else { throw .invalidInput("'custom_report' must be a custom report's name (lower-case letters, digits and _)") }
            source = .customReport(name: name, sqlSHA256: nil)
        default:
            guard role == .admin else { throw .forbidden("exporting everything about a learner is for tenant admins only") }
            guard let agent = object["learner"], agent.objectValue != nil else {
                throw .invalidInput("'learner' must be an xAPI Agent with exactly one identifier (mbox, mbox_sha1sum, openid or account)")
            }
            // Checked as a document resource's `agent` is: a valid Agent (or identified Group), whose key may be as long as
            // a statement's actor key (the job's subject_actor_key holds as much, migration 55): every learner a statement
            // names, and an erasure erases, can be given their data.
            source = .learner(actorKey: try DocumentQuery.agentKey(agent, name: "learner", maximumBytes: StatementFacts.maximumKeyBytes))
        }

        let format: ExportFormat
        if let given = object["format"] {
            guard let text = given.stringValue, let parsed = ExportFormat(rawValue: text) else {
                throw .invalidInput("'format' must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            format = parsed
        } else {
            format = source.formats[0]
        }
        guard source.formats.contains(format) else {
            throw .invalidInput("a \(source.kind) export is written as \(source.formats.map(\.rawValue).joined(separator: " or ")), not \(format.rawValue)")
        }
        var compressed = false
        if let gzip = object["gzip"] {
            guard let flag = gzip.boolValue else { throw .invalidInput("'gzip' must be true or false") }
            compressed = flag
        }
        return ExportRequest(source: source, format: format, compressed: compressed)
    }

    /// The body's fields that name a source; a request names exactly one.
    static let sourceFields = ["report", "statements", "learner", "custom_report"]

    /// What a body asks to export, read as far as it can be, for the audit row of a request refused before it became a
    /// job: the source's kind and the name the job's rows would give it (the report's, `custom:<name>`, or the kind).
    /// Nil when the body names no one source. Names are cut to 64 characters: this is a record, not an echo.
    public static func asked(in body: some Collection<UInt8>) -> (source: String, report: String)? {
        guard let object = (try? JSONParser.parse(body))?.objectValue else { return nil }
        let sources = sourceFields.filter { object[$0] != nil }
        guard sources.count == 1 else { return nil }
        switch sources[0] {
        case "report": return ("report", object["report"]?.stringValue.map { String($0.prefix(64)) } ?? "report")
        case "custom_report": return ("custom_report", object["custom_report"]?.stringValue.map { "custom:" + $0.prefix(64) } ?? "custom_report")
        default: return (sources[0], sources[0])
        }
    }

    /// Checks a report export (or schedule) the way running it would: the report exists on the tenant
    /// surface, the role may run it, and every parameter is known and in range.
    public static func validate(
        report name: String, parameters: [String: String], catalog: ReportCatalog, role: TenantUser.Role, today: String
    ) throws(TenantScopeError) {
        guard let definition = catalog[name], definition.query(on: .tenant) != nil else {
            throw .invalidInput("no report named '\(name)' on the tenant surface")
        }
        guard definition.allows(role) else {
            throw .forbidden("the report '\(name)' is for tenant \(definition.minimumRole?.rawValue ?? "")s only")
        }
        _ = try ReportRequest(definition: definition, surface: .tenant, rawParameters: parameters.sorted { $0.key < $1.key }, today: today)
        // Each value is in range, yet the whole may not fit: an integer may be sent with any number of
        // leading zeros, and escapes and UTF-8 make a character several bytes.
        let bytes = storedBytes(of: parameters)
        guard bytes <= maximumParametersBytes else {
            throw .invalidInput("the report parameters take \(bytes) bytes as stored; at most \(maximumParametersBytes) are kept")
        }
    }

    /// The most bytes a job's or schedule's parameters take as stored: the tables' CHECK
    /// (`octet_length(parameters::text) <= 4000`).
    public static let maximumParametersBytes = 4000

    /// The bytes of `parameters` as PostgreSQL prints them from `jsonb` (`{"a": "1", "b": "2"}`), which is
    /// what the CHECK measures, not the compact text the server sends: `", "` and `": "` between members,
    /// strings escaped as PostgreSQL's `escape_json` does, other bytes (UTF-8 included) as they are.
    static func storedBytes(of parameters: [String: String]) -> Int {
        func quoted(_ text: String) -> Int {
            text.utf8.reduce(2) { total, byte in
                switch byte {
                case 0x08, 0x09, 0x0A, 0x0C, 0x0D, UInt8(ascii: "\""), UInt8(ascii: "\\"): total + 2
                case ..<0x20: total + 6
                default: total + 1
                }
            }
        }
        let members = parameters.reduce(0) { total, member in total + quoted(member.key) + 2 + quoted(member.value) }
        return 2 + members + 2 * max(parameters.count - 1, 0)
    }

    /// Report parameters as text: strings and numbers are accepted, as in a query string.
    static func parameters(_ value: JSONValue?) throws(TenantScopeError) -> [String: String] {
        guard let value else { return [:] }
        guard let members = value.objectValue else { throw .invalidInput("'parameters' must be an object of names to values") }
        var parameters: [String: String] = [:]
        for (name, member) in members {
            switch member {
            case .string(let text): parameters[name] = text
            case .number(let literal): parameters[name] = literal
            default: throw .invalidInput("the parameter '\(name)' must be a string or a number")
            }
        }
        return parameters
    }

    static func timestamp(_ value: JSONValue?, name: String) throws(TenantScopeError) -> Date? {
        guard let value, !value.isNull else { return nil }
        guard let text = value.stringValue, let date = ISO8601Timestamp.parse(text) else {
            throw .invalidInput("'\(name)' must be an ISO 8601 timestamp such as 2026-01-01T00:00:00Z")
        }
        return date
    }
}
