import Foundation
import TenantScopeCore
import TenantScopePostgres

/// The HTTP half of `tenantscope verify-isolation`: every operation of the server's OpenAPI document,
/// called as probe tenant B with every credential B has, aimed at probe tenant A's objects; every answer
/// is searched for A's canary and A's tenant id (``IsolationHTTPRules``).
///
/// Before the walk, positive controls show that the server accepts the probe's credentials and that A's
/// canary comes back over HTTP to A itself (so its absence from B's answers means something); after it,
/// that A's link, statements and tenant are still there (B's destructive attempts did nothing).
///
/// It never sends a request that could succeed against A with a credential meant to succeed: the
/// platform token is used on GET and HEAD only, so the tenant deletion route is tried with B's
/// credentials alone — except for the exports that name A's learners, which the platform must be refused
/// (``platformLearnerExports(_:client:platform:)``).
public struct IsolationHTTPProbe: Sendable {
    /// Issuers with the keys the server verifies tokens with.
    public struct Issuers: Sendable {
        public var tenant: TokenIssuer
        public var platform: TokenIssuer
        public var tenantAudience: String
        public var platformAudience: String

        public init(tenant: TokenIssuer, platform: TokenIssuer, tenantAudience: String = "tenantscope",
                    platformAudience: String = "tenantscope-platform") {
            self.tenant = tenant
            self.platform = platform
            self.tenantAudience = tenantAudience
            self.platformAudience = platformAudience
        }
    }

    public let server: URL
    public let issuers: Issuers
    public let timeout: TimeInterval

    public init(server: URL, issuers: Issuers, timeout: TimeInterval = 30) {
        self.server = server
        self.issuers = issuers
        self.timeout = timeout
    }

    static let canaryLabel = "A's canary"
    static let platformCustomReportsPath = "/api/v1/platform/tenants/{slug}/custom-reports"
    static let tenantLabel = "A's tenant id"
    static let sessionCookie = SessionAuthenticator.cookieName
    static let xapiVersion = ("X-Experience-API-Version", "1.0.3")

    // MARK: - Credentials

    struct Credential: Sendable {
        enum Kind: Sendable {
            case none
            case bearer(String)
            case basic(key: String, secret: String)
            case cookie(String)
        }

        var label: String
        var kind: Kind
        /// The surface it was issued for (nil: none, or a shared-link token that is no credential of either).
        var surface: Surface?
        /// What goes into `/embed/{dashboard}?token=`.
        var embedToken: String?
        /// The session's form token, for the dashboard's POST forms.
        var formToken: String?
        var isPlatform = false
        var isSharedLink = false
        /// Used for the requests that name A's tenant in a parameter or header.
        var namesTenant = false

        func apply(to request: inout IsolationHTTPClient.Request) {
            switch kind {
            case .none: break
            case .bearer(let token): request.headers.append(("Authorization", "Bearer \(token)"))
            case .basic(let key, let secret):
                request.headers.append(("Authorization", "Basic " + Data("\(key):\(secret)".utf8).base64EncodedString()))
            case .cookie(let value): request.headers.append(("Cookie", "\(IsolationHTTPProbe.sessionCookie)=\(value)"))
            }
        }
    }

    /// Everything of A the walk aims at, and what B needs for it.
    struct Context: Sendable {
        var a: IsolationProbe.Member
        var b: IsolationProbe.Member
        var tenantReports: [String]
        var platformReports: [String]
        var moreCursor: String?
        var scan: LeakScan
    }

    // MARK: - Running

    /// Runs the controls, the walk and the after-checks; never throws (a failure is an `error` check).
    public func run(_ probe: IsolationProbe, progress: @Sendable (String) -> Void = { _ in }) async -> [IsolationCheck] {
        let client = IsolationHTTPClient(base: server, timeout: timeout)
        let checks = await walk(probe, client: client, progress: progress)
        await client.shutdown()
        return checks
    }

    func walk(_ probe: IsolationProbe, client: IsolationHTTPClient, progress: @Sendable (String) -> Void) async -> [IsolationCheck] {
        var checks: [IsolationCheck] = []
        let a = probe.a, b = probe.b
        func control(_ attempt: String, _ credential: String, _ status: String, _ ok: Bool, _ detail: String) {
            checks.append(IsolationCheck(area: .control, attempt: attempt, credential: credential, status: status,
                                         outcome: ok ? .passed : .error, detail: detail))
        }
        do {
            // The document: every route the server has.
            let document = try await client.send(.init(method: "GET", path: "/openapi.yaml"))
            let operations = OpenAPIOperations.parse(document.body).sorted()
            control("GET /openapi.yaml lists the routes", "no credential", "\(document.status)", document.status == 200 && operations.count > 5,
                    "\(operations.count) operations")
            guard document.status == 200, operations.count > 5 else { return checks }

            // Tokens minted with the server's keys, accepted once its credential cache knows the probe tenants.
            let lifetime = Duration.seconds(900)
            let aAdmin = try await issuers.tenant.tenantToken(subject: "verify-isolation-a", tenant: a.tenant.id, role: .admin,
                                                              audience: issuers.tenantAudience, lifetime: lifetime)
            let bViewer = try await issuers.tenant.tenantToken(subject: "verify-isolation-b-viewer", tenant: b.tenant.id, role: .viewer,
                                                               audience: issuers.tenantAudience, lifetime: lifetime)
            let bAdmin = try await issuers.tenant.tenantToken(subject: "verify-isolation-b-admin", tenant: b.tenant.id, role: .admin,
                                                              audience: issuers.tenantAudience, lifetime: lifetime)
            let platform = try await issuers.platform.platformToken(operator: "verify-isolation", audience: issuers.platformAudience, lifetime: lifetime)
            var accepted = false
            var last = IsolationHTTPAnswer(status: 0, headers: [], body: "")
            // Both tenants: the cache may have refreshed between creating A and creating B.
            for _ in 0..<120 where !accepted {
                last = try await client.send(Self.request("GET", "/api/v1/reports", Credential(label: "", kind: .bearer(aAdmin))))
                if last.status == 200 {
                    last = try await client.send(Self.request("GET", "/api/v1/reports", Credential(label: "", kind: .bearer(bAdmin))))
                }
                accepted = last.status == 200
                if !accepted { try await Task.sleep(for: .milliseconds(250)) }
            }
            control("GET /api/v1/reports with tokens minted for A and for B", "tenant A and B admin tokens", "\(last.status)", accepted,
                    accepted ? "the server accepts tokens minted with these keys" :
                        "the server refuses tokens minted with these keys: give verify-isolation the server's token keys (--state-dir or the secret files)")
            guard accepted else { return checks }
            let platformList = try await client.send(Self.request("GET", "/api/v1/platform/reports", Credential(label: "", kind: .bearer(platform))))
            control("GET /api/v1/platform/reports with a platform token", "platform token", "\(platformList.status)", platformList.status == 200,
                    platformList.status == 200 ? "the server accepts platform tokens minted with these keys" : "platform tokens are refused")

            // A's canary comes back to A over HTTP: the scans below can see it.
            let aKey = Credential(label: "", kind: .basic(key: a.lrsKey.key, secret: a.lrsKey.secret))
            let own = try await client.send(Self.request("GET", "/xAPI/statements", aKey, query: [("limit", "1")]))
            let ownShows = own.status == 200 && Self.scan(a).found(in: own.body).contains(Self.canaryLabel)
            control("GET /xAPI/statements as A shows A's canary", "tenant A LRS key", "\(own.status)", ownShows,
                    ownShows ? "the canary is visible to its own tenant over HTTP" : "A cannot read its own canary: the probe's data is missing")
            let moreCursor = Self.moreCursor(in: own.body)
            control("A's xAPI more cursor", "tenant A LRS key", moreCursor == nil ? "none" : "ok", moreCursor != nil,
                    moreCursor == nil ? "no more link on a one-statement page of three statements" : "a cursor sealed for A, sent by B below")

            // B's credentials.
            let reportList = try await client.send(Self.request("GET", "/api/v1/reports", Credential(label: "", kind: .bearer(bAdmin))))
            let tenantReports = Self.reportNames(reportList.body)
            control("GET /api/v1/reports as B", "tenant B admin token", "\(reportList.status)", !tenantReports.isEmpty,
                    "\(tenantReports.count) tenant reports: \(tenantReports.joined(separator: ", "))")
            let platformReports = Self.reportNames(platformList.body)
            var credentials = [
                Credential(label: "no credential", kind: .none),
                Credential(label: "tenant B viewer token", kind: .bearer(bViewer), surface: .tenant, embedToken: bViewer),
                Credential(label: "tenant B admin token", kind: .bearer(bAdmin), surface: .tenant, embedToken: bAdmin, namesTenant: true),
                Credential(label: "tenant B LRS key", kind: .basic(key: b.lrsKey.key, secret: b.lrsKey.secret), surface: .tenant, namesTenant: true),
            ]
            for (role, token) in [("viewer", bViewer), ("admin", bAdmin)] {
                let exchange = try await client.send(.init(method: "GET", path: "/embed/learning", query: [("token", token)]))
                let cookie = exchange.setCookie(Self.sessionCookie)
                control("GET /embed/learning?token=<B \(role) token> (not followed)", "tenant B \(role) token", "\(exchange.status)",
                        exchange.status == 303 && cookie != nil,
                        cookie != nil ? "a dashboard session of B (\(Self.sessionCookie))" : "no session cookie came back")
                guard let cookie else { continue }
                var session = Credential(label: "tenant B \(role) dashboard session", kind: .cookie(cookie), surface: .tenant)
                if role == "admin" {
                    let page = try await client.send(Self.request("GET", "/dashboards/learning", session))
                    session.formToken = Self.formToken(in: page.body)
                    session.namesTenant = true
                    control("B's dashboard form token", "tenant B admin dashboard session", "\(page.status)", session.formToken != nil,
                            session.formToken != nil ? "found in the dashboard page; sent with B's form posts" : "no form_token in the dashboard page")
                }
                credentials.append(session)
            }
            credentials.append(Credential(label: "tenant B shared link", kind: .bearer(b.linkToken), embedToken: b.linkToken, isSharedLink: true))
            credentials.append(Credential(label: "platform token", kind: .bearer(platform), surface: .platform, embedToken: platform, isPlatform: true))

            let context = Context(a: a, b: b, tenantReports: tenantReports, platformReports: platformReports, moreCursor: moreCursor, scan: Self.scan(a))

            // Ids that are per tenant must not tell B anything about A's.
            checks += try await oracles(context, client: client, lrsKey: credentials[3])
            // Ad-hoc SQL, the MCP tool and custom reports, with bodies the generic walk does not send.
            checks += await adHocSQL(context, client: client, bAdmin: bAdmin)
            // The platform asking for exports that name A's learners.
            checks += await platformLearnerExports(context, client: client, platform: platform)

            // The walk.
            progress("Calling \(operations.count) operations as B with \(credentials.count) credentials")
            var sent = 0
            for operation in operations {
                for credential in credentials {
                    if credential.isPlatform && !["GET", "HEAD"].contains(operation.method) { continue }
                    for target in targets(operation, credential: credential, context: context) {
                        checks.append(await judge(target, credential: credential, client: client, context: context))
                        sent += 1
                        if credential.namesTenant {
                            for variant in [Target.Naming.query, .header] {
                                var named = target
                                named.naming = variant
                                checks.append(await judge(named, credential: credential, client: client, context: context))
                                sent += 1
                            }
                        }
                    }
                }
            }
            progress("Sent \(sent) requests as B")

            // A is untouched.
            let link = try await client.send(.init(method: "GET", path: "/shared/" + QueryParameters.encode(a.linkToken)))
            control("A's shared link still opens (B tried to revoke it)", "no credential (A's link)", "\(link.status)", link.status == 200,
                    link.status == 200 ? "not revoked" : "A's link no longer opens")
            if link.status != 200 {
                checks.append(IsolationCheck(area: .http, attempt: "B's revoke attempts on A's link", credential: "tenant B credentials",
                                             status: "\(link.status)", outcome: .finding, detail: "A's shared link stopped working during B's requests"))
            }
            let statement = try await client.send(Self.request("GET", "/xAPI/statements", aKey,
                                                               query: [("statementId", a.statementIDs[2].uuidString.lowercased())]))
            control("A's statement is still there and not voided (B sent a voiding statement for it)", "tenant A LRS key", "\(statement.status)",
                    statement.status == 200, statement.status == 200 ? "unchanged" : "A's statement is gone or voided")
            if statement.status == 404 {
                checks.append(IsolationCheck(area: .http, attempt: "B voids A's statement", credential: "tenant B LRS key", status: "404",
                                             outcome: .finding, detail: "B's voiding statement voided A's statement"))
            }
            let still = try await client.send(Self.request("GET", "/api/v1/reports", Credential(label: "", kind: .bearer(aAdmin))))
            control("A still exists (B tried to delete it)", "tenant A admin token", "\(still.status)", still.status == 200,
                    still.status == 200 ? "A's token is still accepted" : "A's token is refused now")
        } catch {
            checks.append(IsolationCheck(area: .http, attempt: "HTTP checks against \(server.absoluteString)", credential: "-", status: "\(type(of: error))",
                                         outcome: .error, detail: "stopped: \(error)"))
        }
        return checks
    }

    static func scan(_ a: IsolationProbe.Member) -> LeakScan {
        LeakScan([.init(label: canaryLabel, value: a.canary), .init(label: tenantLabel, value: a.tenant.id.description)])
    }

    // MARK: - Oracles

    /// Statement and event ids are per tenant: B storing A's ids must behave as if A did not exist, and
    /// B's voiding statement naming A's statement must void nothing of A's.
    func oracles(_ context: Context, client: IsolationHTTPClient, lrsKey: Credential) async throws -> [IsolationCheck] {
        var checks: [IsolationCheck] = []
        let a = context.a
        let statement = Self.request("POST", "/xAPI/statements", lrsKey, body: .json(Self.attackerStatement(id: a.statementIDs[0])))
        let stored = try await client.send(statement)
        checks.append(IsolationCheck(
            area: .http, attempt: "POST /xAPI/statements with A's statement id (B's content)", credential: lrsKey.label, status: "\(stored.status)",
            outcome: stored.status == 200 ? .passed : stored.status == 409 ? .finding : .error,
            detail: stored.status == 200 ? "stored in B: statement ids are per tenant"
                : stored.status == 409 ? "409: B learns that A holds this statement id" : "unexpected answer: \(stored.body.prefix(200))"))
        let event: JSONValue = ["events": [[
            "id": .string(a.featureEventID.uuidString.lowercased()), "feature": .string(IsolationProbe.featureKey),
            "actor": "probe-attacker", "occurred_at": .string(ISO8601Timestamp.format(Date().addingTimeInterval(-60))),
        ]]]
        let events = try await client.send(Self.request("POST", "/api/v1/events", lrsKey, body: .json(event)))
        let storedCount = (try? JSONParser.parse(Array(events.body.utf8)))?["stored"]?.numberValue
        checks.append(IsolationCheck(
            area: .http, attempt: "POST /api/v1/events with A's event id", credential: lrsKey.label, status: "\(events.status)",
            outcome: events.status == 200 && storedCount == 1 ? .passed : events.status == 200 ? .finding : .error,
            detail: events.status == 200 && storedCount == 1 ? "stored in B: event ids are per tenant"
                : events.status == 200 ? "not stored: B learns that A holds this event id" : "unexpected answer: \(events.body.prefix(200))"))
        let voiding: JSONValue = [
            "actor": ["objectType": "Agent", "mbox": "mailto:probe-attacker@probe.invalid"],
            "verb": ["id": "http://adlnet.gov/expapi/verbs/voided", "display": ["en-US": "voided"]],
            "object": ["objectType": "StatementRef", "id": .string(a.statementIDs[2].uuidString.lowercased())],
        ]
        checks.append(await judge(Target(method: "POST", path: "/xAPI/statements", display: "/xAPI/statements (voiding A's statement)",
                                         body: .json(voiding), routeSurface: .tenant),
                                  credential: lrsKey, client: client, context: context))
        checks.append(await alternateSyntax(context, client: client, lrsKey: lrsKey))
        return checks
    }

    /// xAPI's Alternate Request Syntax carries the credential and the parameters in a form body: the
    /// rewritten request must meet the same boundary as the ordinary one.
    func alternateSyntax(_ context: Context, client: IsolationHTTPClient, lrsKey: Credential) async -> IsolationCheck {
        var credentialHeaders = IsolationHTTPClient.Request(method: "GET", path: "/")
        lrsKey.apply(to: &credentialHeaders)
        let fields = credentialHeaders.headers.map { ($0.0, $0.1) } + [
            // Not A's first statement id: B stored a statement of its own under that one above.
            ("X-Experience-API-Version", "1.0.3"), ("statementId", context.a.statementIDs[1].uuidString.lowercased()),
        ]
        var request = IsolationHTTPClient.Request(method: "POST", path: "/xAPI/statements", query: [("method", "GET")])
        request.headers = [("Content-Type", "application/x-www-form-urlencoded")]
        request.body = Data(fields.map { QueryParameters.encode($0.0) + "=" + QueryParameters.encode($0.1) }.joined(separator: "&").utf8)
        let shown = "/xAPI/statements?method=GET (form: B's credential, statementId=<A's statement>)"
        let attempt = IsolationHTTPAttempt(
            method: "POST", target: shown, credential: lrsKey.label, credentialSurface: lrsKey.surface, routeSurface: .tenant,
            addressesVictim: true, namesVictimTenant: false, mayShow: [])
        do {
            return IsolationHTTPRules.judge(attempt, try await client.send(request), scan: context.scan)
        } catch {
            return IsolationCheck(area: .http, attempt: "POST \(shown)", credential: lrsKey.label, status: "no answer", outcome: .error, detail: "\(error)")
        }
    }

    static func attackerStatement(id: UUID) -> JSONValue {
        [
            "id": .string(id.uuidString.lowercased()),
            "actor": ["objectType": "Agent", "mbox": "mailto:probe-attacker@probe.invalid", "name": "probe attacker"],
            "verb": ["id": "http://adlnet.gov/expapi/verbs/experienced", "display": ["en-US": "experienced"]],
            "object": ["objectType": "Activity", "id": "https://probe.invalid/attacker/activity"],
            "timestamp": "2024-01-01T00:00:00Z",
        ]
    }

    // MARK: - Targets

    struct Target: Sendable {
        enum Body: Sendable {
            case none
            case json(JSONValue)
            case form
        }

        enum Naming: Sendable {
            case none, query, header
        }

        var method: String
        var path: String
        /// The path as the report shows it (tokens redacted).
        var display: String
        var query: [(String, String)] = []
        /// Query values as the report shows them.
        var displayQuery: [(String, String)]? = nil
        var body: Body = .none
        var addressesVictim = false
        var routeSurface: Surface?
        var naming: Naming = .none
        /// The OpenAPI path the target was made from (`/api/v1/…/{slug}/…`); empty for the probe's own requests.
        var operationPath = ""
    }

    static func routeSurface(_ path: String) -> Surface? {
        if path.hasPrefix("/api/v1/platform/") || path.hasPrefix("/platform/") || path == "/embed/platform" { return .platform }
        if path.hasPrefix("/api/v1/") || (path.hasPrefix("/xAPI/") && path != "/xAPI/about") || path.hasPrefix("/dashboards/") || path == "/embed/learning" {
            return .tenant
        }
        return nil
    }

    /// The concrete requests for one operation and credential: path parameters filled with A's identifiers
    /// (or B's link token for `/shared/{token}` with B's shared link), and the query variants that aim at A.
    func targets(_ operation: OpenAPIOperation, credential: Credential, context: Context) -> [Target] {
        let a = context.a
        // Each path parameter: (value, shown as, is one of A's objects).
        var fills: [[String: (String, String, Bool)]] = [[:]]
        for name in operation.pathParameters {
            var values: [(String, String, Bool)]
            switch name {
            case "name":
                let names = operation.path.contains("/platform/") ? context.platformReports : context.tenantReports
                values = names.map { ($0, $0, false) }
            case "report":
                values = context.tenantReports.map { ($0, $0, false) }
            case "dashboard":
                values = [("learning", "learning", false), ("platform", "platform", false)]
            case "slug":
                // A platform admin may act for a tenant on its export routes (audited; it sees only the jobs
                // the platform created there): for the platform token the slug names the tenant it acts
                // for, not an object of A's it must be refused, and the check is that no canary shows.
                let actsFor = credential.isPlatform && (operation.path.hasPrefix("/api/v1/platform/tenants/{slug}/exports")
                    || operation.path == Self.platformCustomReportsPath)
                values = [(a.tenant.slug.rawValue, a.tenant.slug.rawValue, !actsFor)]
            case "id":
                let id = operation.path.contains("/links/") ? a.linkID : a.view.id
                values = [(id.uuidString.lowercased(), id.uuidString.lowercased(), true)]
            case "token":
                values = credential.isSharedLink ? [(context.b.linkToken, "<B's link token>", false)]
                    : [(a.linkID.uuidString.lowercased(), a.linkID.uuidString.lowercased(), true)]
            default:
                values = [(a.tenant.slug.rawValue, a.tenant.slug.rawValue, true)]
            }
            fills = fills.flatMap { fill in values.map { value in fill.merging([name: value]) { $1 } } }
        }
        var targets: [Target] = []
        for fill in fills {
            let path = operation.path(filling: fill.mapValues { QueryParameters.encode($0.0) })
            let display = operation.path(filling: fill.mapValues(\.1))
            let victim = fill.values.contains { $0.2 }
            let base = Target(method: operation.method, path: path, display: display, body: Self.body(operation),
                              addressesVictim: victim, routeSurface: Self.routeSurface(path), operationPath: operation.path)
            for (query, aimsAtVictim) in queries(operation, path: path, credential: credential, context: context) {
                var target = base
                target.query = query
                target.addressesVictim = victim || aimsAtVictim
                if operation.path.hasPrefix("/embed/") {
                    target.displayQuery = query.map { ($0.0, $0.0 == "token" ? "<\(credential.label)>" : $0.1) }
                }
                targets.append(target)
            }
        }
        return targets
    }

    /// Query variants: each a list of parameters and whether it addresses one of A's objects.
    func queries(_ operation: OpenAPIOperation, path: String, credential: Credential, context: Context) -> [([(String, String)], Bool)] {
        let a = context.a
        let statementLookup = a.statementIDs[1].uuidString.lowercased()
        let learner = JSONValue.object(["mbox": .string(a.learnerMbox)]).jsonText
        switch (operation.method, operation.path) {
        case ("GET", "/xAPI/statements"):
            var variants: [([(String, String)], Bool)] = [
                ([], false),
                ([("statementId", statementLookup)], true),
                ([("voidedStatementId", statementLookup)], true),
                ([("registration", a.registration.uuidString.lowercased())], false),
                ([("activity", a.courseIRI), ("related_activities", "true")], false),
                ([("agent", JSONValue.object(["mbox": .string(a.learnerMbox)]).jsonText)], false),
                ([("since", "2000-01-01T00:00:00Z"), ("limit", "0")], false),
            ]
            if let cursor = context.moreCursor { variants.append(([("more", cursor)], false)) }
            return variants
        case ("GET", "/xAPI/activities/state"), ("HEAD", "/xAPI/activities/state"):
            // The ids of A's learner's State documents in A's course (one carries A's canary): B's list is its own.
            return [([], false), ([("activityId", a.courseIRI), ("agent", learner), ("registration", a.registration.uuidString.lowercased())], false)]
        case ("GET", "/xAPI/activities/profile"), ("HEAD", "/xAPI/activities/profile"):
            return [([], false), ([("activityId", a.courseIRI)], false)]
        case ("GET", "/xAPI/agents/profile"), ("HEAD", "/xAPI/agents/profile"):
            return [([], false), ([("agent", learner)], false)]
        case ("GET", "/xAPI/activities"), ("HEAD", "/xAPI/activities"):
            // A's course definition (its name carries A's canary) must not come from A's statements.
            return [([], false), ([("activityId", a.courseIRI)], false)]
        case ("GET", "/xAPI/agents"), ("HEAD", "/xAPI/agents"):
            return [([], false), ([("agent", learner)], false)]
        case ("HEAD", "/xAPI/statements"):
            return [([], false), ([("statementId", statementLookup)], true)]
        case ("PUT", "/xAPI/statements"):
            return [([("statementId", a.statementIDs[0].uuidString.lowercased())], false)]
        case ("DELETE", _) where operation.path.hasPrefix("/api/v1/platform/tenants/"):
            return [([("confirm", a.tenant.slug.rawValue)], false)]
        case ("GET", "/embed/{dashboard}"):
            return [(credential.embedToken.map { [("token", $0)] } ?? [], false)]
        case ("GET", "/api/v1/reports/{name}"), ("GET", "/dashboards/learning"), ("GET", "/dashboards/learning/panels/{report}.csv"):
            return [([], false), ([("course", a.courseIRI)], false)]
        case ("GET", "/dashboards/learning/enrollments"):
            return [([("course", a.courseIRI)], false)]
        default:
            return [([], false)]
        }
    }

    static func body(_ operation: OpenAPIOperation) -> Target.Body {
        switch (operation.method, operation.path) {
        case ("POST", "/xAPI/statements"), ("PUT", "/xAPI/statements"):
            return .none  // filled per request below (needs A's id)
        case ("POST", "/api/v1/events"):
            return .json(["events": [[
                "id": "6f1c2a52-8f8e-4d0b-9a57-3a1e0c6b7d11", "feature": .string(IsolationProbe.featureKey), "actor": "probe-attacker",
                "occurred_at": .string(ISO8601Timestamp.format(Date().addingTimeInterval(-60))),
            ]]])
        case ("POST", let path) where path.hasPrefix("/dashboards/"):
            return .form
        case ("POST", _), ("PUT", _), ("PATCH", _):
            return .json([:])
        default:
            return .none
        }
    }

    // MARK: - One request

    static func request(_ method: String, _ path: String, _ credential: Credential, query: [(String, String)] = [],
                        body: Target.Body = .none, formToken: String? = nil) -> IsolationHTTPClient.Request {
        var request = IsolationHTTPClient.Request(method: method, path: path, query: query)
        credential.apply(to: &request)
        if path.hasPrefix("/xAPI/") { request.headers.append(xapiVersion) }
        switch body {
        case .none: break
        case .json(let value):
            request.headers.append(("Content-Type", "application/json"))
            request.body = Data(value.jsonText.utf8)
        case .form:
            request.headers.append(("Content-Type", "application/x-www-form-urlencoded"))
            let fields = [("form_token", formToken ?? ""), ("name", "probe attacker view"), ("days", "30")]
            request.body = Data(fields.map { QueryParameters.encode($0.0) + "=" + QueryParameters.encode($0.1) }.joined(separator: "&").utf8)
        }
        return request
    }

    func judge(_ target: Target, credential: Credential, client: IsolationHTTPClient, context: Context) async -> IsolationCheck {
        // By design a platform admin lists the names and titles of the custom reports of the tenant it names by
        // slug (audited): A's report title carries the canary. Its SQL text (which carries `custom-<canary>`) must
        // never show, so that stays a finding.
        let listsCustomReports = credential.isPlatform && target.operationPath == Self.platformCustomReportsPath
        let scan = listsCustomReports
            ? LeakScan(context.scan.needles + [.init(label: "A's custom report SQL", value: "custom-\(context.a.canary)")]) : context.scan
        var body = target.body
        if target.path == "/xAPI/statements", ["POST", "PUT"].contains(target.method), case .none = body {
            body = .json(Self.attackerStatement(id: context.a.statementIDs[0]))
        }
        var query = target.query
        var request = Self.request(target.method, target.path, credential, query: query, body: body, formToken: credential.formToken)
        var display = target.displayQuery ?? target.query
        switch target.naming {
        case .none: break
        case .query:
            query.append(("tenant_id", context.a.tenant.id.description))
            display.append(("tenant_id", "<A's tenant id>"))
            request.query = query
        case .header:
            request.headers.append(("X-Tenant-ID", context.a.tenant.id.description))
        }
        var shown = target.display
        if !display.isEmpty { shown += "?" + display.map { "\($0.0)=\($0.1)" }.joined(separator: "&") }
        if target.naming == .header { shown += " [X-Tenant-ID: <A's tenant id>]" }
        let attempt = IsolationHTTPAttempt(
            method: target.method, target: shown, credential: credential.label, credentialSurface: credential.surface,
            routeSurface: target.routeSurface, addressesVictim: target.addressesVictim, namesVictimTenant: target.naming != .none,
            mayShow: credential.isPlatform ? (listsCustomReports ? [Self.tenantLabel, Self.canaryLabel] : [Self.tenantLabel]) : [])
        do {
            let answer = try await client.send(request)
            return IsolationHTTPRules.judge(attempt, answer, scan: scan)
        } catch {
            return IsolationCheck(area: .http, attempt: "\(target.method) \(shown)", credential: credential.label, status: "no answer",
                                  outcome: .error, detail: "\(error)")
        }
    }

    // MARK: - Reading answers

    static func reportNames(_ body: String) -> [String] {
        guard let document = try? JSONParser.parse(Array(body.utf8)) else { return [] }
        return (document["reports"]?.arrayValue ?? []).compactMap { $0["name"]?.stringValue }
    }

    /// The `more` cursor of an xAPI statement page.
    static func moreCursor(in body: String) -> String? {
        guard let document = try? JSONParser.parse(Array(body.utf8)), let more = document["more"]?.stringValue, !more.isEmpty,
              let components = URLComponents(string: more) else { return nil }
        return components.queryItems?.first { $0.name == "more" }?.value
    }

    /// The dashboard's form token: the value of the hidden input named `form_token`.
    static func formToken(in html: String) -> String? {
        guard let name = html.range(of: "name=\"form_token\"") else { return nil }
        let rest = html[name.upperBound...]
        guard let value = rest.range(of: "value=\""), let end = rest[value.upperBound...].firstIndex(of: "\"") else { return nil }
        return String(rest[value.upperBound..<end])
    }
}
