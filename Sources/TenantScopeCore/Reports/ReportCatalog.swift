/// The validated set of reports. Construction refuses any definition that breaks the scope rules:
/// a row mixing per-tenant and cross-tenant fields, platform SQL that reads raw learner tables,
/// tenant SQL that claims cross-tenant output, or SQL naming a parameter it does not declare.
public struct ReportCatalog: Sendable {
    public let definitions: [ReportDefinition]
    private let byName: [String: ReportDefinition]

    /// Tables the platform surface must never read (docs/security.md, "The platform sees aggregates"):
    /// raw learner data, and the roll-ups that name learners (by keyed hash). Platform SQL reaches
    /// learner counts only through the aggregate functions `app.platform_learner_activity` and
    /// `app.platform_window_learners`, and the database refuses it the tables too.
    public static let rawLearnerTables = [
        "statements", "learners", "enrollments", "courses", "feature_events", "learning_facts_queue",
        "daily_learner_activity", "learner_active_days", "xapi_documents", "xapi_attachments",
    ]

    public init(_ definitions: [ReportDefinition]) throws(TenantScopeError) {
        var byName: [String: ReportDefinition] = [:]
        for definition in definitions {
            try Self.validate(definition)
            guard byName.updateValue(definition, forKey: definition.name) == nil else {
                throw .invalidInput("report '\(definition.name)' is defined twice")
            }
        }
        self.definitions = definitions
        self.byName = byName
    }

    public subscript(name: String) -> ReportDefinition? { byName[name] }

    static func validate(_ definition: ReportDefinition) throws(TenantScopeError) {
        let name = definition.name
        guard !name.isEmpty, name.allSatisfy({ $0.isLowercase || $0.isNumber || $0 == "_" }) else {
            throw .invalidInput("report name '\(name)' must be lower_snake_case")
        }
        guard definition.tenantQuery != nil || definition.platformQuery != nil else {
            throw .invalidInput("report '\(name)' has no query")
        }
        let declared = Set(definition.parameters.map(\.name))
        guard declared.count == definition.parameters.count else { throw .invalidInput("report '\(name)' declares a parameter twice") }
        if let reserved = declared.first(where: { ReportRequest.tenantParameterNames.contains($0) }) {
            throw .invalidInput("report '\(name)' may not take a '\(reserved)' parameter: the tenant comes from the token only")
        }
        let attributes = Set(definition.attributeFilters.map { "attr_" + $0 })
        if definition.minimumRole != nil, definition.platformQuery != nil {
            throw .invalidInput("report '\(name)': a minimum role is a tenant role; a platform query cannot have one")
        }

        for (surface, query) in [("tenant", definition.tenantQuery), ("platform", definition.platformQuery)] {
            guard let query else { continue }
            guard !query.fields.isEmpty else { throw .invalidInput("report '\(name)' (\(surface)) declares no output fields") }
            let scopes = Set(query.fields.map(\.scope))
            if scopes.contains(.perTenant) && scopes.contains(.crossTenant) {
                throw .invalidInput(
                    "report '\(name)' (\(surface)) mixes per-tenant and cross-tenant fields in one row; split it into two reports"
                )
            }
            if surface == "tenant" && scopes.contains(.crossTenant) {
                throw .invalidInput("report '\(name)': a tenant query cannot return cross-tenant fields")
            }
            if surface == "platform" {
                let tables = SQLText.referencedTables(query.sql)
                if let raw = tables.first(where: { Self.rawLearnerTables.contains($0) }) {
                    throw .invalidInput("report '\(name)': platform SQL reads the raw learner table app.\(raw); read per-tenant roll-ups")
                }
                // With dedicated clusters the query reads each source merged from every cluster (PlatformSources), by
                // its spelling: whatever the merge leaves reads this database alone and would miss the other clusters'
                // tenants, silently. Checked here, where it is a defect of the catalog, not at a request.
                if let left = try PlatformSources.unmergedReads(query.sql).sorted().first {
                    throw .invalidInput("report '\(name)': platform SQL reads app.\(left), which is neither a source merged across clusters "
                                        + "(spelled as \(PlatformSources.all.map(\.reference).joined(separator: ", "))) nor a control table")
                }
            }
            if surface == "platform", query.source != .rollupsOnly {
                throw .invalidInput("report '\(name)': platform SQL must be declared as reading roll-ups only")
            }
            let texts = [query.sql] + (query.coldSQL.map { [$0] } ?? [])
            for text in texts {
                for placeholder in SQLText.placeholders(text) where !declared.contains(placeholder) && !attributes.contains(placeholder) {
                    throw .invalidInput("report '\(name)' (\(surface)) uses :\(placeholder), which it does not declare")
                }
            }
        }
    }
}
