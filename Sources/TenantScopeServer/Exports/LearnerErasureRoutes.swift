import Foundation
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `POST /api/v1/learners/erasure` (tenant admins): a data-subject erasure request. The body names the
/// learner as an xAPI Agent (`{"learner": {"mbox": "mailto:ada@example.com"}}`); everything held about
/// them in the token's tenant is removed in one transaction (``LearnerErasure``), with the files of
/// exports that could hold them. The audit row names the request by its id and counts, never the
/// learner's identifier. The access request is an export: `POST /api/v1/exports` with `{"learner": …}`.
struct LearnerErasureRoutes {
    let erasure: LearnerErasure
    let jobs: ExportJobStore
    let store: any ExportObjectStore
    let authenticator: BearerAuthenticator
    let audit: AuditLog
    /// The tenant's rate (``TenantLimitMiddleware``); nil applies none.
    var limits: TenantLimitEnforcer? = nil

    struct Erased: ResponseEncodable {
        var request_id: String
        var statements: Int
        var documents: Int
        var learner_rows: Int
        var exports_removed: Int
    }

    func register(on router: Router<AppRequestContext>) {
        router.tenantRoutes("api/v1/learners/erasure", authenticator: authenticator, purpose: "learner erasure", audit: audit, limits: limits, work: .api)
            .post { request, context in
                try context.require(.admin, "erasing a learner is for tenant admins")
                let body = try await RequestBody.collect(request, limit: ExportRequest.maximumBodyBytes)
                // A member named twice (two `learner`s, or an agent with two `mbox`es) is refused: which learner would be
                // erased must not depend on which of them a parser keeps.
                guard let object = try JSONParser.requestBody(body, named: "the body").objectValue, object.count == 1,
                      let learner = object["learner"] else {
                    throw TenantScopeError.invalidInput(
                        "the body must be {\"learner\": <an xAPI Agent with exactly one identifier (mbox, mbox_sha1sum, openid or account)>}")
                }
                // Checked as a statement's actor is: a malformed identifier (an mbox without mailto:) is a 400 naming
                // it, not an erasure that matched nobody and answered 200.
                let actorKey = try DocumentQuery.agentKey(learner, name: "learner", maximumBytes: StatementFacts.maximumKeyBytes)
                let requestID = UUID()
                let outcome = try await erasure.erase(actorKey: actorKey, in: context.scope, logger: context.logger)
                let removed = outcome.revokedExports.count + outcome.deletedExportJobs.count
                // The erasure has committed: it is on record before anything else can fail.
                try await audit.append(.init(principal: .tenantUser(context.user), scopeTenant: context.scope.tenant, action: "learner_erased",
                                             parameters: ["request": requestID.uuidString.lowercased(), "statements": "\(outcome.statements)",
                                                          "documents": "\(outcome.documents)", "exports_removed": "\(removed)"],
                                             rowCount: outcome.statements, outcome: "ok"), logger: context.logger)
                // The files went onto the tenant's removal queue with the erasure: removed now, and one the store
                // cannot remove now stays queued for the export worker (its link answers 410 already: its job is revoked).
                let left = try await ExportWorker.remove(outcome.revokedExports + outcome.deletedExportJobs, of: context.scope, jobs: jobs,
                                                         store: store, logger: context.logger)
                if left > 0 {
                    context.logger.warning("An erased learner's export files could not all be removed yet; the export worker retries",
                                           metadata: ["erasure.request": "\(requestID)", "erasure.files_left": "\(left)"])
                }
                context.logger.notice("Learner erased", metadata: ["erasure.request": "\(requestID)"])
                return Erased(request_id: requestID.uuidString.lowercased(), statements: outcome.statements, documents: outcome.documents,
                              learner_rows: outcome.learnerRows, exports_removed: removed)
            }
    }
}
