import Foundation

/// How export jobs run: limits, lease and retention. `serve` sets them from its options; tests shorten them.
public struct ExportSettings: Sendable {
    /// Jobs running at once in this process (over all tenants).
    public var workers: Int = 2
    /// Jobs of one tenant running at once (over all processes).
    public var perTenant: Int = 1
    /// How long an attempt holds its job without a heartbeat (a third of it between heartbeats). A process
    /// that dies leaves its job to be taken over once the lease runs out.
    public var lease: Duration = .seconds(30)
    /// Attempts before a job that keeps dying is marked failed.
    public var maximumAttempts: Int = 5
    /// Rows one export may hold.
    public var rowLimit: Int = 10_000_000
    /// How long one attempt may read (PostgreSQL's statement timeout for its query).
    public var timeLimit: Duration = .seconds(3600)
    /// How long a finished file is kept (then the job is `expired`).
    public var retention: Duration = .seconds(7 * 24 * 3600)
    /// How often the worker looks for work when it found none.
    public var pollInterval: Duration = .seconds(1)
    /// How long a file waits on the removal queue (migration 50) before the worker removes it: whoever queued it (an
    /// erasure, a revocation, the worker's own expiry) removes it at once, so the worker's part is the retry; and the
    /// isolation probe's planted row lives through its checks.
    public var removalRetryAge: Duration = .seconds(600)

    public init() {}
}
