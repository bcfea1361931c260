import Foundation
import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// The xAPI statements resource (`/xAPI/statements`) and `/xAPI/about`: TenantScope as a Learning
/// Record Store. Handlers translate HTTP to ``StatementStore`` and back; the tenant is the credential's.
struct XAPIRoutes {
    let store: StatementStore
    let authenticator: WriterAuthenticator
    let maximumBodyBytes: Int

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

        let statements = router.group("xAPI/statements")
            .add(middleware: XAPIVersionMiddleware())
            .add(middleware: TenantParameterGuard())
            .add(middleware: authenticator)
        statements.post { request, context in try await post(request, context: context) }
        statements.put { request, context in try await put(request, context: context) }
        statements.get { request, context in try await get(request, context: context) }
        statements.head { request, context in
            let full = try await get(request, context: context)
            return Response(status: full.status, headers: full.headers, body: .init())
        }
    }

    // MARK: - Writing

    func post(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try Self.writer(context)
        if FormQuery.parameters(request.uri.query).contains(where: { $0.0 == "statementId" }) {
            throw TenantScopeError.invalidInput("POST does not take statementId; use PUT to store a statement under a given id")
        }
        let batch = try await prepare(request, user: user, requiredID: nil)
        let outcome = try await store.store(batch, tenant: user.tenant)
        context.logger.debug("Statements stored", metadata: ["xapi.received": "\(batch.count)", "xapi.new": "\(outcome.stored)"])
        let ids = "[" + outcome.ids.map { "\"\($0.uuidString.lowercased())\"" }.joined(separator: ",") + "]"
        return Self.json(ids)
    }

    func put(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try Self.writer(context)
        guard let text = FormQuery.parameters(request.uri.query).first(where: { $0.0 == "statementId" })?.1 else {
            throw TenantScopeError.invalidInput("PUT needs the statementId parameter")
        }
        guard let id = UUID(uuidString: String(text)) else { throw TenantScopeError.invalidInput("statementId must be a UUID") }
        let batch = try await prepare(request, user: user, requiredID: id)
        _ = try await store.store(batch, tenant: user.tenant)
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

    static func writer(_ context: AppRequestContext) throws -> TenantUser {
        let user = try reader(context)
        guard user.role == .admin else {
            throw TenantScopeError.forbidden("writing statements needs an LRS credential or a tenant admin token")
        }
        return user
    }

    static func reader(_ context: AppRequestContext) throws -> TenantUser {
        guard case .tenantUser(let user) = try context.requirePrincipal() else {
            throw TenantScopeError.forbidden("the LRS serves tenant credentials only")
        }
        return user
    }

    // MARK: - Reading

    func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let user = try Self.reader(context)
        let parameters = FormQuery.parameters(request.uri.query)
        let languages = StatementFormatter.languagePreferences(request.headers[.acceptLanguage])
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[Self.consistentThroughHeader] = ISO8601Timestamp.format(Date())

        switch try StatementQuery.parse(parameters) {
        case .single(let id, let voided, let format):
            guard let statement = try await store.statement(id: id, voided: voided, tenant: user.tenant) else {
                throw TenantScopeError.notFound(voided ? "no voided statement with that id" : "no statement with that id")
            }
            headers[.lastModified] = HTTPDate.format(statement.stored)
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(
                string: StatementFormatter.apply(format, to: statement.json, languages: languages))))
        case .filter(let filter):
            let page = try await store.page(filter, tenant: user.tenant)
            let statements = page.statements.map { StatementFormatter.apply(filter.format, to: $0.json, languages: languages) }
            let more = page.more.map { "/xAPI/statements?more=\($0)" } ?? ""
            if let newest = page.statements.map(\.stored).max() {
                headers[.lastModified] = HTTPDate.format(newest)
            }
            let body = "{\"statements\":[" + statements.joined(separator: ",") + "],\"more\":\"" + more + "\"}"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: body)))
        }
    }

    static func json(_ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: text)))
    }
}

/// Requires `X-Experience-API-Version` on every request and sends it on every response, errors included.
struct XAPIVersionMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var version = XAPIVersion.current
        var response: Response
        do {
            version = try XAPIVersion.negotiate(request.headers[XAPIRoutes.versionHeader])
            response = try await next(request, context)
        } catch {
            response = try ErrorMiddleware<Context>.response(for: error, request: request, context: context)
        }
        response.headers[XAPIRoutes.versionHeader] = version
        return response
    }
}

/// RFC 9110 HTTP dates (`Tue, 24 Nov 2026 09:30:00 GMT`) from PostgreSQL's ISO 8601 text.
enum HTTPDate {
    static func format(_ iso: String) -> String {
        guard let date = ISO8601Timestamp.parse(iso) else { return iso }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss 'GMT'"
        return formatter.string(from: date)
    }
}
