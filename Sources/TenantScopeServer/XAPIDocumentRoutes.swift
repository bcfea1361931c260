import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TenantScopeCore
import TenantScopePostgres

/// The xAPI 1.0.3 document resources (`/xAPI/activities/state`, `/xAPI/activities/profile`,
/// `/xAPI/agents/profile`) and the Activities and Agents resources (`/xAPI/activities`, `/xAPI/agents`).
/// Handlers translate HTTP to ``DocumentStore`` and back; the tenant is the credential's, never a parameter.
struct XAPIDocumentRoutes {
    let documents: DocumentStore
    let statements: StatementStore
    let authenticator: LRSAuthenticator
    let audit: AuditLog
    let maximumBodyBytes: Int
    /// The tenant's rate (``TenantLimitMiddleware``); nil applies none.
    var limits: TenantLimitEnforcer? = nil

    static let paths: [(String, DocumentKind)] = [
        ("xAPI/activities/state", .state), ("xAPI/activities/profile", .activityProfile), ("xAPI/agents/profile", .agentProfile),
    ]

    func register(on router: Router<AppRequestContext>) {
        for (path, kind) in Self.paths {
            let group = router.tenantRoutes(RouterPath(path), authenticator: authenticator, purpose: "LRS routes", audit: audit, limits: limits, work: .ingest)
            group.put { request, context in try await write(request, context: context, kind: kind, mode: .replace) }
            group.post { request, context in try await write(request, context: context, kind: kind, mode: .merge) }
            group.get { request, context in try await get(request, context: context, kind: kind) }
            group.delete { request, context in try await delete(request, context: context, kind: kind) }
        }
        let activities = router.tenantRoutes("xAPI/activities", authenticator: authenticator, purpose: "LRS routes", audit: audit, limits: limits, work: .ingest)
        activities.get { request, context in try await activity(request, context: context) }
        let agents = router.tenantRoutes("xAPI/agents", authenticator: authenticator, purpose: "LRS routes", audit: audit, limits: limits, work: .ingest)
        agents.get { request, context in try await person(request, context: context) }
    }

    // MARK: - Documents

    func write(_ request: Request, context: TenantRequestContext, kind: DocumentKind, mode: DocumentStore.WriteMode) async throws -> Response {
        try context.require(.admin, "writing xAPI documents needs an LRS credential or a tenant admin token")
        let query = try DocumentQuery.parse(kind, method: .write, parameters: QueryParameters.pairs(of: request))
        let contentType = request.headers[.contentType]
        // Counted as PostgreSQL's length() counts (code points), not as Swift's grapheme clusters.
        if let contentType, contentType.unicodeScalars.count > 255 { throw TenantScopeError.invalidInput("Content-Type is longer than 255 characters") }
        let body = try await RequestBody.collect(request, limit: maximumBodyBytes)
        let content = DocumentContent(bytes: Array(body), contentType: contentType)
        guard let id = query.documentID else { throw TenantScopeError.invalidInput("the \(kind.idParameter) parameter is required") }
        try await documents.write(content, mode: mode, to: query.address, id: id, preconditions: Self.preconditions(request),
                                  in: context.scope, logger: context.logger)
        context.logger.debug("xAPI document stored", metadata: ["xapi.document.kind": "\(kind.rawValue)", "xapi.document.bytes": "\(body.count)"])
        return Response(status: .noContent)
    }

    func get(_ request: Request, context: TenantRequestContext, kind: DocumentKind) async throws -> Response {
        let query = try DocumentQuery.parse(kind, method: .read, parameters: QueryParameters.pairs(of: request))
        var headers = HTTPFields()
        guard let id = query.documentID else {
            let (ids, newest) = try await documents.ids(query.address, since: query.since, in: context.scope, logger: context.logger)
            headers[.contentType] = "application/json"
            if let newest { headers[.lastModified] = HTTPDate.format(newest) }
            let body = JSONValue.array(ids.map(JSONValue.string)).jsonText
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: body)))
        }
        guard let document = try await documents.document(query.address, id: id, in: context.scope, logger: context.logger) else {
            throw TenantScopeError.notFound("no document with that \(kind.idParameter)")
        }
        headers[.contentType] = document.content.contentType
        headers[.eTag] = "\"\(document.etag)\""
        headers[.lastModified] = HTTPDate.format(document.updated)
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(bytes: document.content.bytes)))
    }

    func delete(_ request: Request, context: TenantRequestContext, kind: DocumentKind) async throws -> Response {
        try context.require(.admin, "deleting xAPI documents needs an LRS credential or a tenant admin token")
        let query = try DocumentQuery.parse(kind, method: .delete, parameters: QueryParameters.pairs(of: request))
        try await documents.delete(query.address, id: query.documentID, preconditions: Self.preconditions(request),
                                   in: context.scope, logger: context.logger)
        return Response(status: .noContent)
    }

    /// `If-Match` and `If-None-Match` as lists of unquoted, lowercased ETags. `If-None-Match` compares weakly (a weak
    /// tag by its value); `If-Match` strongly (RFC 9110 13.1.1), so a weak tag there is kept as `W/…`, which matches
    /// no document's ETag.
    static func preconditions(_ request: Request) -> DocumentStore.Preconditions {
        func tags(_ name: HTTPField.Name, weakMatches: Bool) -> [String]? {
            let values = request.headers[values: name]
            guard !values.isEmpty else { return nil }
            return values.flatMap { $0.split(separator: ",") }.map { raw in
                var tag = raw.trimmingCharacters(in: .whitespaces)
                let weak = tag.hasPrefix("W/")
                if weak { tag.removeFirst(2) }
                let value = tag.trimmingCharacters(in: CharacterSet(charactersIn: "\"")).lowercased()
                return weak && !weakMatches ? "W/" + value : value
            }
        }
        return DocumentStore.Preconditions(ifMatch: tags(.ifMatch, weakMatches: false), ifNoneMatch: tags(.ifNoneMatch, weakMatches: true))
    }

    // MARK: - Activities and Agents

    func activity(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let values = try DocumentQuery.unique(QueryParameters.pairs(of: request), allowed: ["activityId"])
        guard let id = values["activityId"] else { throw TenantScopeError.invalidInput("the activityId parameter is required") }
        _ = try DocumentQuery.activityID(id)
        let definitions = try await statements.activityDefinitions(id: id, in: context.scope, logger: context.logger)
        return Self.json(ActivityObject.merge(id: id, definitions: definitions))
    }

    func person(_ request: Request, context: TenantRequestContext) async throws -> Response {
        let values = try DocumentQuery.unique(QueryParameters.pairs(of: request), allowed: ["agent"])
        guard let text = values["agent"] else { throw TenantScopeError.invalidInput("the agent parameter is required") }
        let key = try DocumentQuery.agentKey(text)
        let agent = try DocumentQuery.agentObject(text)
        let names = try await statements.actorNames(key: key, in: context.scope, logger: context.logger)
        return Self.json(PersonObject.make(agent: agent, knownNames: names))
    }

    static func json(_ value: JSONValue) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: value.jsonText)))
    }
}
