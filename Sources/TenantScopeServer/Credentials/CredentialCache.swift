import Foundation
import Logging
import ServiceLifecycle
import TenantScopeCore
import TenantScopePostgres

/// The server's cache of the credential state (live tenants, revoked token ids, ended sessions), so a
/// request checks its credential without a database round trip.
///
/// Staleness is bounded: a snapshot whose load began more than `refreshInterval` (1 s by default) ago is
/// reloaded before it answers (one load at a time, shared by the requests waiting for it), and the service
/// below reloads it every interval so requests rarely wait. A revocation or a deleted tenant therefore takes
/// effect within about one interval, however long a load takes. When loading fails, the last snapshot keeps
/// answering until it is `maximumStaleness` old (10 s); after that every check is
/// ``CredentialStateUnavailable`` (503). Ages are measured on the monotonic clock from when a load began.
public actor CredentialCache: CredentialStatus, Service {
    public static let defaultRefreshInterval: Duration = .seconds(1)
    public static let defaultMaximumStaleness: Duration = .seconds(10)

    private let store: CredentialStateStore
    private let horizon: Duration
    private let refreshInterval: Duration
    private let maximumStaleness: Duration
    private let logger: Logger
    /// The snapshot, and when the load that read it began: a load sees what was committed before it began, so its
    /// age counts from then, on a clock that a step of the system clock cannot turn back.
    private var snapshot: (value: CredentialSnapshot, loadBegan: ContinuousClock.Instant)?
    private var loading: Task<CredentialSnapshot, any Error>?

    /// - Parameter horizon: how long after its revocation a token or session could still pass its other checks
    ///   (``TokenVerifier/Configuration/revocationHorizon``); older revocations no longer matter.
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
        let began = ContinuousClock.now
        return keep(try await store.load(horizon: horizon, logger: logger), loadBegan: began)
    }

    /// Reloads, sharing a load already under way: requests that find the snapshot old wait for one load.
    private func reload(logger: Logger) async throws -> CredentialSnapshot {
        if let loading { return try await loading.value }
        let began = ContinuousClock.now
        let task = Task { [store, horizon] in try await store.load(horizon: horizon, logger: logger) }
        loading = task
        defer { loading = nil }
        return keep(try await task.value, loadBegan: began)
    }

    /// Keeps the newer of `loaded` and the current snapshot (loads may finish out of order): the one whose load
    /// began last.
    private func keep(_ loaded: CredentialSnapshot, loadBegan: ContinuousClock.Instant) -> CredentialSnapshot {
        if let snapshot, snapshot.loadBegan > loadBegan { return snapshot.value }
        snapshot = (loaded, loadBegan)
        return loaded
    }

    private func current(logger: Logger) async throws -> CredentialSnapshot {
        if let snapshot, snapshot.loadBegan.duration(to: .now) < refreshInterval { return snapshot.value }
        do {
            return try await reload(logger: logger)
        } catch {
            if let snapshot, snapshot.loadBegan.duration(to: .now) < maximumStaleness { return snapshot.value }
            logger.warning("Credential state unavailable", metadata: ["error.type": "\(type(of: error))"])
            throw CredentialStateUnavailable()
        }
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
