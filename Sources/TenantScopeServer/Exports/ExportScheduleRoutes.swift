import Foundation
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// `/api/v1/export-schedules` (tenant admins): save a schedule that exports a report daily or weekly at an
/// hour (UTC), list them, delete one. The worker queues one job per slot, however many servers run.
struct ExportScheduleRoutes {
    let schedules: ExportScheduleStore
    let catalog: ReportCatalog
    let authenticator: BearerAuthenticator
    let audit: AuditLog
    /// The tenant's rate (``TenantLimitMiddleware``); nil applies none.
    var limits: TenantLimitEnforcer? = nil

    struct Item: ResponseEncodable {
        var id: String
        var report: String
        var parameters: [String: String]
        var format: String
        var gzip: Bool
        var cadence: String
        var hour: Int
        var weekday: Int?
        var created_by: String
        var created_at: String
        var last_slot: String?

        init(_ schedule: ExportSchedule) {
            id = schedule.id.uuidString.lowercased()
            report = schedule.report
            parameters = schedule.parameters
            format = schedule.format.rawValue
            gzip = schedule.compressed
            cadence = schedule.cadence.rawValue
            hour = schedule.hour
            weekday = schedule.weekday
            created_by = schedule.createdBy
            created_at = ISO8601Timestamp.format(schedule.createdAt)
            last_slot = schedule.lastSlot.map(ISO8601Timestamp.format)
        }
    }

    struct List: ResponseEncodable {
        var schedules: [Item]
    }

    func register(on router: Router<AppRequestContext>) {
        let group = router.tenantRoutes("api/v1/export-schedules", authenticator: authenticator, purpose: "export schedules", audit: audit, limits: limits, work: .api)
        group.post { request, context in
            try context.require(.admin, "scheduling exports is for tenant admins")
            let body = try await RequestBody.collect(request, limit: 4 * ExportRequest.maximumBodyBytes)
            let parsed = try ExportSchedule.parse(body, catalog: catalog, role: context.user.role, today: ISO8601Timestamp.day(Date()))
            let schedule = try await schedules.create(
                parsed.request, cadence: parsed.cadence, hour: parsed.hour, weekday: parsed.weekday,
                by: .init(name: context.user.subject, kind: "tenant_user", role: context.user.role, attributes: context.user.attributes),
                in: context.scope, logger: context.logger)
            try await audit.append(.init(principal: .tenantUser(context.user), scopeTenant: context.scope.tenant, action: "export_schedule_created",
                                         report: schedule.report, parameters: ["schedule": schedule.id.uuidString.lowercased(),
                                                                               "cadence": schedule.cadence.rawValue],
                                         outcome: "ok"), logger: context.logger)
            var response = try Item(schedule).response(from: request, context: context)
            response.status = .created
            return response
        }
        group.get { request, context in
            try context.require(.admin, "export schedules are for tenant admins")
            try QueryParameters.requireNone(in: request)
            return List(schedules: try await schedules.list(in: context.scope, logger: context.logger).map(Item.init))
        }
        group.delete("{id}") { _, context in
            try context.require(.admin, "export schedules are for tenant admins")
            guard let id = UUIDText.parse(try context.parameters.require("id")),
                  try await schedules.delete(id, in: context.scope, logger: context.logger)
            else { throw TenantScopeError.notFound("no export schedule with that id") }
            try await audit.append(.init(principal: .tenantUser(context.user), scopeTenant: context.scope.tenant, action: "export_schedule_deleted",
                                         parameters: ["schedule": id.uuidString.lowercased()], outcome: "ok"), logger: context.logger)
            return Response(status: .noContent)
        }
    }
}
