import CoreMetrics
import Foundation
import Synchronization
import TenantScopeCore

/// The server's tenant-keyed cache of report answers and ad-hoc SQL results (architecture decision 33):
/// bounded in memory, least recently used out first.
///
/// An entry is keyed by everything that decides a tenant report's answer: the tenant, the principal's
/// row attributes (a region-restricted viewer never gets an unrestricted answer), the report, its parsed
/// parameters, the UTC day it was asked on (reports count their windows back from the database's
/// `current_date`, and nothing moves the watermark at midnight, so a new day starts new entries) and the
/// tenant's roll-up watermark, so a catch-up that changed anything, or a product-event batch, makes the old
/// entries unreachable (they age out). Ad-hoc SQL is keyed the same way, its "report" being `sql:` and the
/// SHA-256 of the text (a catalog name never holds a colon). A seed document puts it plainly: "a cached chart
/// that does not include tenant_id in its cache key is a cross-tenant data leak" — ``ReportResultCacheTests``
/// fails if the tenant leaves the key.
public final class ReportResultCache: Sendable {
    public struct Key: Hashable, Sendable {
        let tenant: TenantID
        let attributes: [String: String]
        let report: String
        let parameters: [String: ReportValue]
        /// The UTC day (`YYYY-MM-DD`) the question was asked on.
        let day: String
        let watermark: Date

        public init(tenant: TenantID, attributes: [String: String], report: String, parameters: [String: ReportValue], day: String,
                    watermark: Date) {
            self.tenant = tenant
            self.attributes = attributes
            self.report = report
            self.parameters = parameters
            self.day = day
            self.watermark = watermark
        }

        /// Whether an answer asked for at `askedAt`, whose run began at `start`, is still the answer of the key's day:
        /// one whose run went past midnight may count its window from the new day (the database's `current_date`)
        /// and is not stored under the day before.
        public func isStillItsDay(askedAt: Date, runStarted start: ContinuousClock.Instant) -> Bool {
            ISO8601Timestamp.day(askedAt.addingTimeInterval((ContinuousClock.now - start).inSeconds)) == day
        }
    }

    public static let defaultMaximumBytes = 64 << 20

    /// What an entry holds: a catalog report's rows, or an ad-hoc query's result.
    private enum Answer {
        case report([[ReportCell]])
        case sql(SQLResult)
    }

    private struct Entry {
        var answer: Answer
        var bytes: Int
        var older: Key?
        var newer: Key?
    }

    /// Entries in a doubly linked recency list threaded through the dictionary: O(1) hit, insert, evict.
    private struct State {
        var entries: [Key: Entry] = [:]
        var newest: Key?
        var oldest: Key?
        var bytes = 0
    }

    public let maximumBytes: Int
    private let state = Mutex(State())
    private let hits: Counter
    private let misses: Counter
    private let evictions: Counter
    private let size: Gauge

    public init(maximumBytes: Int = defaultMaximumBytes, metrics: any MetricsFactory = MetricsSystem.factory) {
        self.maximumBytes = maximumBytes
        hits = Counter(label: "tenantscope_report_cache_hits_total", factory: metrics)
        misses = Counter(label: "tenantscope_report_cache_misses_total", factory: metrics)
        evictions = Counter(label: "tenantscope_report_cache_evictions_total", factory: metrics)
        size = Gauge(label: "tenantscope_report_cache_bytes", factory: metrics)
    }

    /// The cached rows for `key`, marked most recently used; nil on a miss.
    public func rows(for key: Key) -> [[ReportCell]]? {
        guard case .report(let rows) = answer(for: key) else { return nil }
        return rows
    }

    /// The cached result of an ad-hoc query for `key`; nil on a miss.
    public func sqlResult(for key: Key) -> SQLResult? {
        guard case .sql(let result) = answer(for: key) else { return nil }
        return result
    }

    /// Stores a report's rows (see ``store(_:bytes:for:)``).
    public func store(_ rows: [[ReportCell]], for key: Key) {
        store(.report(rows), bytes: Self.estimatedBytes(of: rows, key: key), for: key)
    }

    /// Stores an ad-hoc query's result.
    public func store(_ result: SQLResult, for key: Key) {
        let columns = Self.arrayBytes(count: result.columns.count, stride: MemoryLayout<SQLResult.Column>.stride)
            + result.columns.reduce(0) { $0 + Self.stringBytes($1.name) + Self.stringBytes($1.type) }
        let cells = result.rows.reduce(Self.arrayBytes(count: result.rows.count, stride: 8)) { total, row in
            total + Self.arrayBytes(count: row.count, stride: MemoryLayout<SQLValue>.stride) + row.reduce(0) { bytes, value in
                if case .text(let text) = value { return bytes + Self.stringBytes(text) }
                return bytes
            }
        }
        store(.sql(result), bytes: Self.estimatedBytes(of: [], key: key) + columns + cells, for: key)
    }

    private func answer(for key: Key) -> Answer? {
        let answer = state.withLock { state -> Answer? in
            guard let entry = state.entries[key] else { return nil }
            Self.unlink(key, in: &state)
            Self.linkNewest(key, in: &state)
            return entry.answer
        }
        (answer == nil ? misses : hits).increment()
        return answer
    }

    /// Evicts the least recently used entries beyond the byte budget. An answer larger than a quarter of
    /// the budget is not kept: it would flush everything else.
    private func store(_ answer: Answer, bytes: Int, for key: Key) {
        guard bytes <= maximumBytes / 4 else { return }
        let (evicted, total) = state.withLock { state -> (Int, Int) in
            if state.entries[key] != nil {
                Self.remove(key, in: &state)
            }
            state.entries[key] = Entry(answer: answer, bytes: bytes)
            state.bytes += bytes
            Self.linkNewest(key, in: &state)
            var evicted = 0
            while state.bytes > maximumBytes, let oldest = state.oldest {
                Self.remove(oldest, in: &state)
                evicted += 1
            }
            return (evicted, state.bytes)
        }
        if evicted > 0 { evictions.increment(by: evicted) }
        size.record(total)
    }

    /// How many entries are held (tests and diagnostics).
    public var count: Int { state.withLock { $0.entries.count } }

    // MARK: - Recency list

    private static func linkNewest(_ key: Key, in state: inout State) {
        state.entries[key]?.older = state.newest
        state.entries[key]?.newer = nil
        if let newest = state.newest { state.entries[newest]?.newer = key }
        state.newest = key
        if state.oldest == nil { state.oldest = key }
    }

    private static func unlink(_ key: Key, in state: inout State) {
        guard let entry = state.entries[key] else { return }
        if let older = entry.older { state.entries[older]?.newer = entry.newer } else { state.oldest = entry.newer }
        if let newer = entry.newer { state.entries[newer]?.older = entry.older } else { state.newest = entry.older }
    }

    private static func remove(_ key: Key, in state: inout State) {
        unlink(key, in: &state)
        if let entry = state.entries.removeValue(forKey: key) { state.bytes -= entry.bytes }
    }

    /// What an entry holds on the heap, as Swift lays it out: the key's and the list's bookkeeping, each row an array
    /// of its cells (a heap block of its own), and each text too long to live inline (over 15 bytes) a heap block of
    /// its own. Every heap block is rounded as malloc rounds it. Checked against the resident memory of 5,000
    /// entries of 100 rows (two texts of 29 and 8 bytes, two numbers): 232 bytes a row estimated, 236 measured; an
    /// estimate that counted a cell's enum and its text's bytes alone said 165 and let the budget hold 1.4 times
    /// its size.
    static func estimatedBytes(of rows: [[ReportCell]], key: Key) -> Int {
        var bytes = 256 + stringBytes(key.report) + stringBytes(key.day)
        for (name, value) in key.attributes { bytes += 32 + stringBytes(name) + stringBytes(value) }
        for (name, value) in key.parameters { bytes += 48 + stringBytes(name) + stringBytes(value.description) }
        bytes += arrayBytes(count: rows.count, stride: 8)
        for row in rows {
            bytes += arrayBytes(count: row.count, stride: MemoryLayout<ReportCell>.stride)
            for cell in row {
                if case .text(let text) = cell { bytes += stringBytes(text) }
            }
        }
        return bytes
    }

    /// A malloc block for `payload` bytes: its 8-byte header, rounded up to 16.
    private static func heapBlock(_ payload: Int) -> Int { (payload + 8 + 15) & ~15 }

    /// An array of `count` elements of `stride` bytes: a 32-byte object header and its elements, in one block.
    static func arrayBytes(count: Int, stride: Int) -> Int { count == 0 ? 0 : heapBlock(32 + count * stride) }

    /// The heap a string holds besides its inline 16 bytes: none up to 15 UTF-8 bytes, else a block of a 32-byte
    /// header and the bytes with their terminator.
    static func stringBytes(_ text: String) -> Int {
        let count = text.utf8.count
        return count <= 15 ? 0 : heapBlock(32 + count + 1)
    }
}
