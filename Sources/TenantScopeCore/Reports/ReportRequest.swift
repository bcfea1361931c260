/// A request to run a report: the definition, the surface and the parsed parameter values.
public struct ReportRequest: Sendable, Hashable {
    /// Names that would carry a tenant in a request. They are refused wherever they appear:
    /// the tenant comes from the verified token only.
    public static let tenantParameterNames: Set<String> = ["tenant", "tenant_id", "tenantid", "tenant_slug", "org", "org_id", "organization", "organization_id"]

    public var definition: ReportDefinition
    public var surface: Surface
    public var values: [String: ReportValue]

    /// Parses raw query parameters for `definition` on `surface`.
    ///
    /// - Parameter today: the current UTC day (`YYYY-MM-DD`), for relative date defaults.
    public init(
        definition: ReportDefinition, surface: Surface, rawParameters: [(String, String)], today: String
    ) throws(TenantScopeError) {
        var raw: [String: String] = [:]
        for (name, value) in rawParameters {
            if Self.tenantParameterNames.contains(name.lowercased()) {
                throw .invalidInput("the tenant comes from your token; the parameter '\(name)' is not accepted")
            }
            guard definition.parameters.contains(where: { $0.name == name }) else {
                throw .invalidInput("report '\(definition.name)' has no parameter '\(name)'")
            }
            // PostgreSQL's text cannot hold U+0000: refused here for every surface (a query string's decoding refuses it
            // too; an MCP agent's parameters arrive as JSON, which can carry it).
            guard !value.unicodeScalars.contains("\u{0}") else {
                throw .invalidInput("parameter '\(name)' contains a NUL character")
            }
            guard raw.updateValue(value, forKey: name) == nil else {
                throw .invalidInput("parameter '\(name)' is given twice")
            }
        }
        var values: [String: ReportValue] = [:]
        for parameter in definition.parameters {
            values[parameter.name] = try parameter.parse(raw[parameter.name], today: today)
        }
        self.definition = definition
        self.surface = surface
        self.values = values
    }

    /// The query for this surface.
    public var query: ReportDefinition.Query? {
        definition.query(on: surface)
    }
}
