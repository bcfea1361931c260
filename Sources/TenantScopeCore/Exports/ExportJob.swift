import Foundation

/// One export job as its tenant sees it (`GET /api/v1/exports/{id}`).
public struct ExportJob: Sendable, Hashable {
    public var id: UUID
    public var tenant: TenantID
    public var source: ExportSource
    public var format: ExportFormat
    public var compressed: Bool
    public var state: ExportState
    public var requestedBy: String
    public var requestedKind: String
    public var scheduleID: UUID?
    public var attempts: Int
    /// Rows written so far (while running) or in all (when done).
    public var rows: Int
    public var sizeBytes: Int?
    /// Why it failed, in words safe to show the tenant.
    public var error: String?
    public var createdAt: Date
    public var startedAt: Date?
    public var finishedAt: Date?
    /// When a finished job's file is removed and the job becomes `expired`.
    public var expiresAt: Date?

    public init(id: UUID, tenant: TenantID, source: ExportSource, format: ExportFormat, compressed: Bool, state: ExportState,
                requestedBy: String, requestedKind: String, scheduleID: UUID? = nil, attempts: Int = 0, rows: Int = 0,
                sizeBytes: Int? = nil, error: String? = nil, createdAt: Date, startedAt: Date? = nil, finishedAt: Date? = nil,
                expiresAt: Date? = nil) {
        self.id = id
        self.tenant = tenant
        self.source = source
        self.format = format
        self.compressed = compressed
        self.state = state
        self.requestedBy = requestedBy
        self.requestedKind = requestedKind
        self.scheduleID = scheduleID
        self.attempts = attempts
        self.rows = rows
        self.sizeBytes = sizeBytes
        self.error = error
        self.createdAt = createdAt
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.expiresAt = expiresAt
    }

    /// Where the finished file lives in the object store.
    public var objectKey: ExportObjectKey {
        ExportObjectKey(tenant: tenant, job: id, fileExtension: format.fileExtension(compressed: compressed))
    }
}
