/// One thing `tenantscope verify-isolation` tried, and what came of it.
///
/// Every check names what was tried, as whom (the credential or database role), the answer (an HTTP
/// status or a SQLSTATE) and its outcome. Only ``Outcome/finding`` and ``Outcome/error`` fail a run.
public struct IsolationCheck: Sendable, Hashable {
    /// Which part of the run the check belongs to.
    public enum Area: String, Sendable, Hashable, CaseIterable {
        /// The catalog rules (`SchemaAudit`) and the cluster hardening.
        case schema
        /// Positive controls: the probe's data is where the checks look, so a check that finds nothing means something.
        case control
        /// A request to the running server.
        case http
        /// An attempt in the database as the tenant, platform or server login role.
        case database
        /// Removing the probe tenants.
        case cleanup
    }

    public enum Outcome: String, Sendable, Hashable, CaseIterable {
        /// It ran, and nothing of the other tenant came back.
        case passed
        /// It was refused (an HTTP 4xx, a database error with the expected SQLSTATE).
        case refused
        /// It ran and showed something documented as acceptable (whole-table volumes; see docs/security.md).
        case accepted
        /// Isolation failed: the other tenant's canary or id came back, a refusal did not happen, or the server failed (5xx).
        case finding
        /// The check could not be run or answered unexpectedly: it proves nothing either way.
        case error

        /// Whether this outcome fails the run.
        public var failsRun: Bool { self == .finding || self == .error }
    }

    public var area: Area
    /// What was tried, e.g. `GET /api/v1/reports/active_learners` or `SET ROLE tenantscope`.
    public var attempt: String
    /// As whom: `tenant B admin token`, `tenant role in B's scope`, `server login role`, `owner`.
    public var credential: String
    /// The answer: an HTTP status (`403`), a SQLSTATE (`42501`), `ok`, or empty.
    public var status: String
    public var outcome: Outcome
    /// Why the outcome is what it is, for a person.
    public var detail: String

    public init(area: Area, attempt: String, credential: String, status: String = "", outcome: Outcome, detail: String = "") {
        self.area = area
        self.attempt = attempt
        self.credential = credential
        self.status = status
        self.outcome = outcome
        self.detail = detail
    }
}
