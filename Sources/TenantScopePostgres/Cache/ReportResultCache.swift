import CoreMetrics
import Foundation
import Synchronization
import TenantScopeCore

/// The server's tenant-keyed cache of report answers and ad-hoc SQL results (architecture decision 33):
/// bounded in memory, least recently used out first.
///
/// An entry is keyed by everything that decides a tenant report's answer: the tenant, the principal's
/// row attributes (a region-restricted viewer never gets an unrestricted answer), the report, its parsed
/// parameters (today's date included, so a new day starts new entries) and the tenant's roll-up watermark,
/// so a catch-up that changed anything, or a product-event batch, makes the old entries unreachable (they
/// age out). Ad-hoc SQL is keyed the same way, its "report" being `sql:` and the SHA-256 of the text (a
/// catalog name never holds a colon). A seed document puts it plainly: "a cached chart that does not include tenant_id in its
/// cache key is a cross-tenant data leak" — ``ReportResultCacheTests`` fails if the tenant leaves the key.
public final class ReportResultCache: Sendable {
    public struct Key: Hashable, Sendable {
        let tenant: TenantID
        let attributes: [String: String]
        let report: String
        let parameters: [String: ReportValue]
        let watermark: Date

        public init(tenant: TenantID, attributes: [String: String], report: String, parameters: [String: ReportValue], watermark: Date) {
            self.tenant = tenant
            self.attributes = attributes
            self.report = report
            self.parameters = parameters
            self.watermark = watermark
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
        let columns = result.columns.reduce(0) { $0 + 48 + $1.name.utf8.count + $1.type.utf8.count }
        let cells = result.rows.reduce(0) { total, row in
            total + 32 + row.reduce(0) { bytes, value in
                if case .text(let text) = value { return bytes + 24 + text.utf8.count }
                return bytes + 24
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

    /// A deliberate over-estimate of what an entry holds: the key, and per cell its enum and its text.
    static func estimatedBytes(of rows: [[ReportCell]], key: Key) -> Int {
        var bytes = 256 + key.report.utf8.count
        for (name, value) in key.attributes { bytes += 32 + name.utf8.count + value.utf8.count }
        for (name, value) in key.parameters { bytes += 48 + name.utf8.count + value.description.utf8.count }
        for row in rows {
            bytes += 32
            for cell in row {
                bytes += 24
                if case .text(let text) = cell { bytes += text.utf8.count }
            }
        }
        return bytes
    }
}
