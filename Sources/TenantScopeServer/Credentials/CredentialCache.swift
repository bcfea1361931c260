import Foundation
import Logging
import ServiceLifecycle
import TenantScopeCore
import TenantScopePostgres

/// The server's cache of the credential state (live tenants, revoked token ids, ended sessions), so a
/// request checks its credential without a database round trip.
///
/// Staleness is bounded: a snapshot older than `refreshInterval` (1 s by default) is reloaded before it
/// answers (one load at a time, shared by the requests waiting for it), and the service below reloads it
/// every interval so requests rarely wait. A revocation or a deleted tenant therefore takes effect within
/// about one interval. When loading fails, the last snapshot keeps answering until it is
/// `maximumStaleness` old (10 s); after that every check is ``CredentialStateUnavailable`` (503).
public actor CredentialCache: CredentialStatus, Service {
    public static let defaultRefreshInterval: Duration = .seconds(1)
    public static let defaultMaximumStaleness: Duration = .seconds(10)

    private let store: CredentialStateStore
    private let horizon: Duration
    private let refreshInterval: Duration
    private let maximumStaleness: Duration
    private let logger: Logger
    private var snapshot: CredentialSnapshot?
    private var loading: Task<CredentialSnapshot, any Error>?

    /// - Parameter horizon: the longest a token or session lives; older revocations no longer matter.
    public init(store: CredentialStateStore, horizon: Duration, refreshInterval: Duration = defaultRefreshInterval,
                maximumStaleness: Duration = defaultMaximumStaleness, logger: Logger) {
        self.store = store
        self.horizon = horizon
        self.refreshInterval = refreshInterval
        self.maximumStaleness = maximumStaleness
        self.logger = logger
    }

    public func refusal(jti: String?, tenant: TenantID?, logger: Logger) async throws -> CredentialSnapshot.Refusal? {
        try await current(logger: logger).refusal(jti: jti, tenant: tenant)
    }

    public func refusal(session: DashboardSession, logger: Logger) async throws -> CredentialSnapshot.Refusal? {
        try await current(logger: logger).refusal(session: session.jti, tenant: session.tenant, subject: session.subject,
                                                  issuedAt: Date(timeIntervalSince1970: Double(session.issuedAt) / 1000))
    }

    /// Reloads with a load that starts after this call, so that whatever was committed before it (a
    /// revocation, a deleted tenant) is in the snapshot it returns. Tests use it instead of waiting.
    @discardableResult
    public func refresh(logger: Logger) async throws -> CredentialSnapshot {
        if let loading { _ = try? await loading.value }
        return keep(try await store.load(horizon: horizon, logger: logger))
    }

    /// Reloads, sharing a load already under way: requests that find the snapshot old wait for one load.
    private func reload(logger: Logger) async throws -> CredentialSnapshot {
        if let loading { return try await loading.value }
        let task = Task { [store, horizon] in try await store.load(horizon: horizon, logger: logger) }
        loading = task
        defer { loading = nil }
        return keep(try await task.value)
    }

    /// Keeps the newer of `loaded` and the current snapshot (loads may finish out of order).
    private func keep(_ loaded: CredentialSnapshot) -> CredentialSnapshot {
        if let snapshot, snapshot.loadedAt > loaded.loadedAt { return snapshot }
        snapshot = loaded
        return loaded
    }

    private func current(logger: Logger) async throws -> CredentialSnapshot {
        if let snapshot, age(of: snapshot) < refreshInterval { return snapshot }
        do {
            return try await reload(logger: logger)
        } catch {
            if let snapshot, age(of: snapshot) < maximumStaleness { return snapshot }
            logger.warning("Credential state unavailable", metadata: ["error.type": "\(type(of: error))"])
            throw CredentialStateUnavailable()
        }
    }

    private func age(of snapshot: CredentialSnapshot) -> Duration {
        .milliseconds(Int64(Date().timeIntervalSince(snapshot.loadedAt) * 1000))
    }

    /// Keeps the cache warm: reloads every interval until graceful shutdown.
    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    _ = try await self.reload(logger: self.logger)
                } catch where !Task.isCancelled {
                    self.logger.debug("Credential state reload failed", metadata: ["error.type": "\(type(of: error))"])
                } catch {
                    break
                }
                try? await Task.sleep(for: self.refreshInterval)
            }
        }
    }
}
