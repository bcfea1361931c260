/// One request of the attacking tenant, described for judging (no secrets: tokens are shown as `<token>`).
public struct IsolationHTTPAttempt: Sendable, Hashable {
    public var method: String
    /// The path and query as a person should read them, credentials redacted.
    public var target: String
    /// Which credential was sent, e.g. `tenant B admin token`.
    public var credential: String
    /// The surface the credential was issued for; nil for no credential or one that is not a credential
    /// of either surface (a shared-link token sent as a bearer token).
    public var credentialSurface: Surface?
    /// The surface the route serves; nil for public routes (health, the document, `/shared/{token}`).
    public var routeSurface: Surface?
    /// The request addresses one of the victim's objects (its slug, a saved view, a link, a statement id):
    /// any success is a finding.
    public var addressesVictim: Bool
    /// The request names the victim's tenant (`tenant_id=` or `X-Tenant-ID`): it must be refused with 400.
    public var namesVictimTenant: Bool
    /// Labels of needles this credential may legitimately see (the platform sees tenant ids in aggregates).
    public var mayShow: Set<String>

    public init(method: String, target: String, credential: String, credentialSurface: Surface?, routeSurface: Surface?,
                addressesVictim: Bool = false, namesVictimTenant: Bool = false, mayShow: Set<String> = []) {
        self.method = method
        self.target = target
        self.credential = credential
        self.credentialSurface = credentialSurface
        self.routeSurface = routeSurface
        self.addressesVictim = addressesVictim
        self.namesVictimTenant = namesVictimTenant
        self.mayShow = mayShow
    }
}

/// What came back.
public struct IsolationHTTPAnswer: Sendable, Hashable {
    public var status: Int
    /// Every header, as (name, value); repeated headers repeat.
    public var headers: [[String]]
    public var body: String

    public init(status: Int, headers: [(String, String)], body: String) {
        self.status = status
        self.headers = headers.map { [$0.0, $0.1] }
        self.body = body
    }
}

/// Judges one request of the attacking tenant: the rules of `verify-isolation` for HTTP, pure so they
/// are unit-tested on their own.
///
/// In order: a 5xx is a finding; the victim's canary or tenant id anywhere in the body or a header is a
/// finding (except what the credential may see); a request naming the victim's tenant must get 400; a
/// request addressing one of the victim's objects must not succeed; a credential of one surface (or none)
/// must not be served a route of another. Anything else is `refused` (4xx) or `passed` (served, nothing
/// of the victim in it).
public enum IsolationHTTPRules {
    public static func judge(_ attempt: IsolationHTTPAttempt, _ answer: IsolationHTTPAnswer, scan: LeakScan) -> IsolationCheck {
        func check(_ outcome: IsolationCheck.Outcome, _ detail: String) -> IsolationCheck {
            IsolationCheck(area: .http, attempt: "\(attempt.method) \(attempt.target)", credential: attempt.credential,
                           status: String(answer.status), outcome: outcome, detail: detail)
        }
        let success = (200..<400).contains(answer.status)
        if answer.status >= 500 {
            return check(.finding, "server error \(answer.status)")
        }
        var places: [String] = []
        var labels: [String] = []
        for label in scan.found(in: answer.body) where !attempt.mayShow.contains(label) {
            labels.append(label)
            places.append("\(label) in the body")
        }
        for header in answer.headers where header.count == 2 {
            for label in scan.found(in: header[1]) where !attempt.mayShow.contains(label) {
                labels.append(label)
                places.append("\(label) in the \(header[0]) header")
            }
        }
        if !places.isEmpty {
            return check(.finding, "the response shows " + places.joined(separator: ", "))
        }
        if attempt.namesVictimTenant && answer.status != 400 {
            return check(.finding, "a request naming the other tenant was not refused with 400")
        }
        if attempt.addressesVictim && success {
            return check(.finding, "a request addressing the other tenant's object succeeded")
        }
        if let route = attempt.routeSurface, success, attempt.credentialSurface != route {
            let who = attempt.credentialSurface.map { "a \($0.rawValue) credential" } ?? "a request without a credential of that surface"
            return check(.finding, "\(who) was served a \(route.rawValue) route")
        }
        if answer.status >= 400 {
            return check(.refused, attempt.namesVictimTenant ? "tenant named in the request: refused" : "refused")
        }
        return check(.passed, "served; nothing of the other tenant in the body or headers")
    }
}
