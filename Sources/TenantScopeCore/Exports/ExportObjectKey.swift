import Foundation

/// Where one export job's finished file lives in an ``ExportObjectStore``: always under its tenant.
///
/// Built only from a job row read in the tenant's scope, so the tenant in the key is the job's own; a
/// store never takes a path or key from a request.
public struct ExportObjectKey: Hashable, Sendable, CustomStringConvertible {
    public let tenant: TenantID
    public let job: UUID
    /// The file name's extension: `csv`, `json`, `ndjson`, with `.gz` when compressed.
    public let fileExtension: String

    public init(tenant: TenantID, job: UUID, fileExtension: String) {
        self.tenant = tenant
        self.job = job
        self.fileExtension = fileExtension
    }

    /// The path below the file store's root: `<tenant-id>/<job-id>.<ext>`.
    public var relativePath: String { "\(tenant)/\(job.uuidString.lowercased()).\(fileExtension)" }

    /// The object key below an S3 prefix: `tenants/<tenant-id>/exports/<job-id>`.
    public var objectKey: String { "\(Self.tenantPrefix(tenant))\(job.uuidString.lowercased())" }

    /// The key prefix that holds every export object of one tenant (what tenant deletion removes).
    public static func tenantPrefix(_ tenant: TenantID) -> String { "tenants/\(tenant)/exports/" }

    /// The file name a download suggests: `export-<job-id>.<ext>`.
    public var downloadName: String { "export-\(job.uuidString.lowercased()).\(fileExtension)" }

    public var description: String { objectKey }
}
