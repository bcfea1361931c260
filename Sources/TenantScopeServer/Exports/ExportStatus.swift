import Foundation
import Hummingbird
import TenantScopeCore

/// An export job as the API returns it (`GET /api/v1/exports/{id}`; see openapi.yaml).
public struct ExportStatus: ResponseEncodable, Sendable {
    public var id: String
    public var state: String
    public var source: String
    public var report: String?
    public var parameters: [String: String]?
    public var since: String?
    public var until: String?
    public var format: String
    public var gzip: Bool
    public var rows: Int
    public var size_bytes: Int?
    public var attempts: Int
    public var error: String?
    public var requested_by: String
    public var schedule_id: String?
    public var created_at: String
    public var started_at: String?
    public var finished_at: String?
    public var expires_at: String?
    /// A path on this server, signed for 24 hours (or until the file expires), re-signed on every read.
    public var download_url: String?
    public var download_expires_at: String?

    init(_ job: ExportJob, link: (String, Date)?) {
        id = job.id.uuidString.lowercased()
        state = job.state.rawValue
        source = job.source.kind
        switch job.source {
        case .report(let name, let parameters):
            report = name
            self.parameters = parameters
        case .statements(let since, let until):
            self.since = since.map(ISO8601Timestamp.format)
            self.until = until.map(ISO8601Timestamp.format)
        case .learner:
            break  // the learner's identifier is not echoed
        case .customReport(let name, let hash):
            report = name
            self.parameters = hash.map { ["sql_sha256": $0] }
        }
        format = job.format.rawValue
        gzip = job.compressed
        rows = job.rows
        size_bytes = job.sizeBytes
        attempts = job.attempts
        error = job.error
        requested_by = job.requestedBy
        schedule_id = job.scheduleID?.uuidString.lowercased()
        created_at = ISO8601Timestamp.format(job.createdAt)
        started_at = job.startedAt.map(ISO8601Timestamp.format)
        finished_at = job.finishedAt.map(ISO8601Timestamp.format)
        expires_at = job.expiresAt.map(ISO8601Timestamp.format)
        download_url = link?.0
        download_expires_at = link.map { ISO8601Timestamp.format($0.1) }
    }
}
