import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TenantScopeCore
import TenantScopePostgres

/// The export API (see openapi.yaml):
/// - `POST /api/v1/exports` queues a job (202 with its status and `Location`); `GET /api/v1/exports` lists
///   the tenant's jobs (an admin sees all, others their own); `GET /api/v1/exports/{id}` shows one with a
///   freshly signed download link when done; `DELETE /api/v1/exports/{id}` revokes it and removes its file.
/// - `GET /exports/download/{token}`: the signed link itself, no other credential; it re-checks the job
///   at request time and streams the file (or redirects to the object store's presigned URL).
/// - `POST|GET /api/v1/platform/tenants/{slug}/exports`: a platform admin acting for one tenant, audited.
///
/// Another tenant's job id, or a malformed one, is a 404, never a 403: nothing says whether it exists.
struct ExportRoutes {
    let service: ExportService
    let directory: TenantDirectory
    let authenticator: BearerAuthenticator
    let audit: AuditLog
    /// The tenant's rate (``TenantLimitMiddleware``); nil applies none.
    var limits: TenantLimitEnforcer? = nil

    struct List: ResponseEncodable {
        var exports: [ExportStatus]
    }

    func register(on router: Router<AppRequestContext>) {
        let group = router.tenantRoutes("api/v1/exports", authenticator: authenticator, purpose: "exports", audit: audit, limits: limits, work: .api)
        group.post { request, context in
            let body = try await RequestBody.collect(request, limit: 4 * ExportRequest.maximumBodyBytes)
            let job = try await service.create(body: body, by: .tenantUser(context.user), in: context.scope, logger: context.logger)
            return try Self.accepted(service.status(of: job), request: request, context: context)
        }
        group.get { request, context in
            try QueryParameters.requireNone(in: request)
            return List(exports: try await service.list(for: .tenantUser(context.user), in: context.scope, logger: context.logger))
        }
        group.get("{id}") { request, context in
            try QueryParameters.requireNone(in: request)
            return try await service.status(try Self.id(context), for: .tenantUser(context.user), in: context.scope, logger: context.logger)
        }
        group.delete("{id}") { _, context in
            try await service.revoke(try Self.id(context), by: .tenantUser(context.user), in: context.scope, logger: context.logger)
        }

        router.get("exports/download/{token}") { _, context in
            let token = try context.parameters.require("token")
            let (job, download) = try await service.download(token: token, logger: context.logger)
            switch download {
            case .redirect(let url):
                var headers = HTTPFields()
                headers[.location] = url.absoluteString
                return Response(status: .seeOther, headers: headers)
            case .file(let url):
                return try await Self.file(url, job: job, context: context)
            }
        }

        let platform = router.platformRoutes("api/v1/platform/tenants/{slug}/exports", authenticator: authenticator,
                                             purpose: "exports for a tenant", audit: audit)
        platform.post { request, context in
            let scope = try await tenant(context)
            let body = try await RequestBody.collect(request, limit: 4 * ExportRequest.maximumBodyBytes)
            let job = try await service.create(body: body, by: .platformOperator(context.person.name), in: scope, logger: context.logger)
            return try Self.accepted(service.status(of: job), request: request, context: context)
        }
        platform.get { request, context in
            try QueryParameters.requireNone(in: request)
            let scope = try await tenant(context)
            return List(exports: try await service.list(for: .platformOperator(context.person.name), in: scope, logger: context.logger))
        }
        platform.get("{id}") { request, context in
            try QueryParameters.requireNone(in: request)
            let scope = try await tenant(context)
            return try await service.status(try Self.id(context), for: .platformOperator(context.person.name), in: scope, logger: context.logger)
        }
    }

    /// The tenant a platform admin acts for, from the directory by slug.
    private func tenant(_ context: PlatformRequestContext) async throws -> TenantScope {
        let slug = try TenantSlug(try context.parameters.require("slug"))
        guard let tenant = try await directory.find(slug: slug, logger: context.logger) else {
            throw TenantScopeError.notFound("no tenant with the slug '\(slug)'")
        }
        return ScopePolicy.actingFor(tenant.id, by: context.scope)
    }

    static func id(_ context: some RequestContext) throws -> UUID {
        guard let id = UUIDText.parse(try context.parameters.require("id")) else {
            throw TenantScopeError.notFound("no export with that id")
        }
        return id
    }

    static func accepted(_ status: ExportStatus, request: Request, context: some RequestContext) throws -> Response {
        var response = try status.response(from: request, context: context)
        response.status = .accepted
        response.headers[.location] = "/" + request.uri.path.split(separator: "/").joined(separator: "/") + "/" + status.id
        return response
    }

    /// Streams a stored file in chunks (an export may be far larger than memory should hold).
    static func file(_ url: URL, job: ExportJob, context: some RequestContext) async throws -> Response {
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw TenantScopeError.gone("this export's file is no longer there")
        }
        let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int) ?? nil
        var headers = HTTPFields()
        headers[.contentType] = job.format.storedContentType(compressed: job.compressed)
        headers[.contentDisposition] = "attachment; filename=\"\(job.objectKey.downloadName)\""
        if let size { headers[.contentLength] = String(size) }
        let body = ResponseBody { writer in
            defer { try? handle.close() }
            while true {
                let chunk = try handle.read(upToCount: 256 * 1024) ?? Data()
                if chunk.isEmpty { break }
                try await writer.write(ByteBuffer(bytes: chunk))
            }
            try await writer.finish(nil)
        }
        return Response(status: .ok, headers: headers, body: body)
    }
}
