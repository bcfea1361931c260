import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// The xAPI statements resource (`/xAPI/statements`) and `/xAPI/about`: TenantScope as a Learning
/// Record Store. Handlers translate HTTP to ``StatementStore`` and back; the tenant is the credential's.
struct XAPIRoutes {
    let store: StatementStore
    let authenticator: LRSAuthenticator
    let audit: AuditLog
    let maximumBodyBytes: Int
    let metrics: IngestMetrics

    static let versionHeader = HTTPField.Name(XAPIVersion.headerName)!
    static let consistentThroughHeader = HTTPField.Name("X-Experience-API-Consistent-Through")!

    func register(on router: Router<AppRequestContext>) {
        router.get("xAPI/about") { _, _ in
            var headers = HTTPFields()
            headers[Self.versionHeader] = XAPIVersion.current
            headers[.contentType] = "application/json"
            // 1.0.x only: TenantScope implements xAPI 1.0.3. Requests saying 2.0.x are accepted, but 1.0
            // clients (TinCanPython among them) refuse an /about listing a version they do not know.
            let body = #"{"version":["1.0.3","1.0.2","1.0.1","1.0.0"],"extensions":{}}"#
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: body)))
        }

        let statements = router.tenantRoutes("xAPI/statements", authenticator: authenticator, purpose: "LRS routes", audit: audit)
        statements.post { request, context in try await counted { try await post(request, context: context) } }
        statements.put { request, context in try await counted { try await put(request, context: context) } }
        statements.get { request, context in try await get(request, context: context) }
        statements.head { request, context in
            let full = try await get(request, context: context)
            return Response(status: full.status, headers: full.headers, body: .init())
        }
    }

    // MARK: - Writing

    /// Runs a write, counting it as refused when it ends in a client error (nothing of it was stored).
    private func counted(_ write: () async throws -> Response) async throws -> Response {
        do {
            return try await write()
        } catch {
            let status = ErrorMiddleware<AppRequestContext>.status(of: error)
            if (400..<500).contains(status.code) { metrics.refused(status: status) }
            throw error
        }
    }

    func post(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try Self.requireWriter(context)
        if try QueryParameters.pairs(of: request).contains(where: { $0.0 == "statementId" }) {
            throw TenantScopeError.invalidInput("POST does not take statementId; use PUT to store a statement under a given id")
        }
        let batch = try await prepare(request, user: context.user, requiredID: nil)
        let outcome = try await store.store(batch, in: context.scope, logger: context.logger)
        metrics.accepted(batch: batch.count, new: outcome.stored)
        context.logger.debug("Statements stored", metadata: ["xapi.received": "\(batch.count)", "xapi.new": "\(outcome.stored)"])
        let ids = "[" + outcome.ids.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ",") + "]"
        return Self.json(ids)
    }

    func put(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try Self.requireWriter(context)
        guard let text = try QueryParameters.pairs(of: request).first(where: { $0.0 == "statementId" })?.1 else {
            throw TenantScopeError.invalidInput("PUT needs the statementId parameter")
        }
        guard let id = UUID(uuidString: String(text)) else { throw TenantScopeError.invalidInput("statementId must be a UUID") }
        let batch = try await prepare(request, user: context.user, requiredID: id)
        let outcome = try await store.store(batch, in: context.scope, logger: context.logger)
        metrics.accepted(batch: batch.count, new: outcome.stored)
        return Response(status: .noContent)
    }

    func prepare(_ request: Request, user: TenantUser, requiredID: UUID?) async throws -> [PreparedStatement] {
        if let type = request.headers[.contentType]?.lowercased() {
            if type.hasPrefix("multipart/") {
                throw TenantScopeError.invalidInput(
                    "multipart/mixed statements with attachment content are not supported; reference attachments by fileUrl")
            }
            guard type.hasPrefix("application/json") else {
                throw TenantScopeError.invalidInput("statements must be sent as application/json")
            }
        }
        let body = try await RequestBody.collect(request, limit: maximumBodyBytes)
        return try StatementBatch.parse(body, validator: StatementValidator(authority: user.authorityAccount), requiredID: requiredID)
    }

    static func requireWriter(_ context: TenantRequestContext) throws {
        try context.require(.admin, "writing statements needs an LRS credential or a tenant admin token")
    }

    // MARK: - Reading

    func get(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let parameters = try QueryParameters.pairs(of: request)
        let languages = StatementFormatter.languagePreferences(request.headers[.acceptLanguage])
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[Self.consistentThroughHeader] = ISO8601Timestamp.format(Date())

        switch try StatementQuery.parse(parameters) {
        case .single(let id, let voided, let format):
            guard let statement = try await store.statement(id: id, voided: voided, in: context.scope, logger: context.logger) else {
                throw TenantScopeError.notFound(voided ? "no voided statement with that id" : "no statement with that id")
            }
            headers[.lastModified] = HTTPDate.format(statement.stored)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(
                string: StatementFormatter.apply(format, to: statement.json, languages: languages))))
        case .filter(let filter):
            return try await page(filter, context: context, headers: headers, languages: languages)
        case .continuation(let cursor):
            let filter = try store.cursors.open(cursor, tenant: context.scope.tenant)
            return try await page(filter, context: context, headers: headers, languages: languages)
        }
    }

    /// One page of statements, with a `more` link sealed for the requester's tenant when there is another.
    private func page(_ filter: StatementFilter, context: TenantRequestContext, headers: HTTPFields, languages: [String]) async throws -> Response {
        var headers = headers
        let page = try await store.page(filter, in: context.scope, logger: context.logger)
        let statements = page.statements.map { StatementFormatter.apply(filter.format, to: $0.json, languages: languages) }
        let more = page.next.map { "/xAPI/statements?more=" + store.cursors.seal($0, tenant: context.scope.tenant) } ?? ""
        if let newest = page.statements.map(\.stored).max() {
            headers[.lastModified] = HTTPDate.format(newest)
        }
        let body = "{\"statements\":[" + statements.joined(separator: ",") + "],\"more\":\"" + more + "\"}"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: body)))
    }

    static func json(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }
}
