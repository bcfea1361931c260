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
    /// The tenant's rate (``TenantLimitMiddleware``); nil applies none.
    var limits: TenantLimitEnforcer? = nil

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

        let statements = router.tenantRoutes("xAPI/statements", authenticator: authenticator, purpose: "LRS routes", audit: audit, limits: limits, work: .ingest)
        statements.post { request, context in try await counted { try await post(request, context: context) } }
        statements.put { request, context in try await counted { try await put(request, context: context) } }
        statements.get { request, context in try await get(request, context: context) }
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
        let (batch, attachments) = try await prepare(request, user: context.user, requiredID: nil)
        try await limits?.chargeBatch(of: context.scope.tenant, items: batch.count, note: context.rateLimit, logger: context.logger)
        let outcome = try await store.store(batch, attachments: attachments, in: context.scope, logger: context.logger)
        metrics.accepted(batch: batch.count, new: outcome.stored)
        context.logger.debug("Statements stored", metadata: ["xapi.received": "\(batch.count)", "xapi.new": "\(outcome.stored)"])
        let ids = "[" + outcome.ids.map { "\"\(UUIDText.lowercase($0))\"" }.joined(separator: ",") + "]"
        return Self.json(ids)
    }

    func put(_ request: Request, context: TenantRequestContext) async throws -> Response {
        try Self.requireWriter(context)
        guard let text = try QueryParameters.pairs(of: request).first(where: { $0.0 == "statementId" })?.1 else {
            throw TenantScopeError.invalidInput("PUT needs the statementId parameter")
        }
        guard let id = UUIDText.parse(text) else { throw TenantScopeError.invalidInput("statementId must be a UUID") }
        let (batch, attachments) = try await prepare(request, user: context.user, requiredID: id)
        try await limits?.chargeBatch(of: context.scope.tenant, items: batch.count, note: context.rateLimit, logger: context.logger)
        let outcome = try await store.store(batch, attachments: attachments, in: context.scope, logger: context.logger)
        metrics.accepted(batch: batch.count, new: outcome.stored)
        return Response(status: .noContent)
    }

    /// The validated batch and the content of its attachments. `application/json` carries statements
    /// only (attachments by `fileUrl`); `multipart/mixed` carries the statements as its first part and
    /// one part per attachment content (xAPI 1.0.3 Communication 1.5.2), all checked before anything is
    /// stored. The whole body, parts included, is held to the body limit.
    func prepare(_ request: Request, user: TenantUser, requiredID: UUID?) async throws -> ([PreparedStatement], [AttachmentContent]) {
        let contentType = request.headers[.contentType]
        let type = contentType?.lowercased()
        // The media type itself, not a prefix of it: `application/jsonx` is not JSON.
        let mediaType = type.map { $0.split(separator: ";", maxSplits: 1).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" }
        if let mediaType, mediaType != "application/json", mediaType != "multipart/mixed" {
            throw TenantScopeError.invalidInput("statements must be sent as application/json, or multipart/mixed with attachment content")
        }
        let body = try await RequestBody.collect(request, limit: maximumBodyBytes)
        let validator = StatementValidator(authority: user.authorityAccount)
        guard let contentType, type?.hasPrefix("multipart/mixed") == true else {
            let document = try StatementBatch.decode(body)
            let batch = try StatementBatch.parse(document: document, validator: validator, requiredID: requiredID)
            // Without parts there is no content: every attachment must point to it by fileUrl, and a
            // signature (whose content is the JWS) cannot be sent at all.
            let sent = Self.statementsAsSent(document)
            _ = try StatementAttachments.match(parts: [], statements: sent.statements, paths: sent.paths)
            return (batch, [])
        }
        // The boundary is case-sensitive: read from the header as sent.
        let multipart = try MultipartBody.parse(Array(body), boundary: MultipartBody.boundary(ofContentType: contentType))
        guard multipart.parts[0].mediaType == "application/json" else {
            throw TenantScopeError.invalidInput("the first part of a multipart/mixed statement request must be the application/json statements")
        }
        let document = try StatementBatch.decode(Data(multipart.parts[0].body))
        let batch = try StatementBatch.parse(document: document, validator: validator, requiredID: requiredID)
        let sent = Self.statementsAsSent(document)
        let attachments = try StatementAttachments.match(parts: Array(multipart.parts.dropFirst()), statements: sent.statements, paths: sent.paths)
        return (batch, attachments)
    }

    /// The statements of a (validated) body as the sender wrote them, before the LRS filled anything in:
    /// what a signature's payload is compared with. The body is decoded once, for this and for the batch.
    static func statementsAsSent(_ value: JSONValue) -> (statements: [JSONObject], paths: [String]) {
        if let list = value.arrayValue {
            return (list.compactMap(\.objectValue), list.indices.map { "statements[\($0)]" })
        }
        return (value.objectValue.map { [$0] } ?? [], ["statement"])
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
        case .single(let id, let voided, let format, let attachments):
            guard let statement = try await store.statement(id: id, voided: voided, in: context.scope, logger: context.logger) else {
                throw TenantScopeError.notFound(voided ? "no voided statement with that id" : "no statement with that id")
            }
            headers[.lastModified] = HTTPDate.format(statement.stored)
            let json = StatementFormatter.apply(format, to: statement.json, languages: languages)
            return try await respond(json, statements: attachments ? [statement] : nil, headers: headers, context: context)
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
        return try await respond(body, statements: filter.attachments ? page.statements : nil, headers: headers, context: context)
    }

    /// `json` as it is, or (when `statements` is given: `attachments=true`) as the first part of a
    /// `multipart/mixed` body followed by one part per attachment content those statements reference
    /// (xAPI 1.0.3 Communication 2.1.3). Content is read in the requester's tenant only.
    private func respond(_ json: String, statements: [StatementStore.StoredStatement]?, headers: HTTPFields, context: TenantRequestContext) async throws -> Response {
        var headers = headers
        guard let statements else {
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: json)))
        }
        let parsed = statements.compactMap { (try? JSONParser.parse($0.json.utf8))?.objectValue }
        let contents = try await store.attachments.contents(
            sha2s: StatementAttachments.hashes(of: parsed), in: context.scope, logger: context.logger)
        var parts = [MultipartBody.Part(headers: ["Content-Type": "application/json"], body: Array(json.utf8))]
        for content in contents {
            parts.append(MultipartBody.Part(
                headers: ["Content-Type": content.contentType, "Content-Transfer-Encoding": "binary", "X-Experience-API-Hash": content.sha2],
                body: content.bytes))
        }
        let boundary = MultipartBody.makeBoundary()
        headers[.contentType] = "multipart/mixed; boundary=\(boundary)"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: MultipartBody(parts: parts).encoded(boundary: boundary))))
    }

    static func json(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }
}
