import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

/// Accepted LRS credentials, remembered for `lifetime` (1 s by default) so that a busy client's requests
/// cost no database round trip for authentication (architecture decision 35).
///
/// Only acceptances are kept, keyed by the key and the SHA-256 of the secret (never the secret): a wrong
/// or unknown credential is asked of the database every time, and a new key works at once. A revoked key,
/// or one whose tenant was deleted, is refused within `lifetime`. Memory is bounded: past
/// `maximumEntries` the oldest half is dropped.
actor LRSCredentialCache {
    static let defaultLifetime: Duration = .seconds(1)

    private let credentials: LRSCredentials
    private let lifetime: Duration
    private let maximumEntries: Int
    private var accepted: [Key: (tenant: TenantID, at: ContinuousClock.Instant)] = [:]

    private struct Key: Hashable {
        let key: String
        let secretHash: String
    }

    init(credentials: LRSCredentials, lifetime: Duration = defaultLifetime, maximumEntries: Int = 10_000) {
        self.credentials = credentials
        self.lifetime = lifetime
        self.maximumEntries = maximumEntries
    }

    /// The tenant the credential belongs to, or nil for an unknown, revoked or wrong one.
    func tenant(for credential: LRSCredentialSecret, logger: Logger) async throws -> TenantID? {
        let key = Key(key: credential.key, secretHash: credential.secretHash)
        if let hit = accepted[key], hit.at.duration(to: .now) < lifetime {
            return hit.tenant
        }
        let checkedAt = ContinuousClock.now
        guard let tenant = try await credentials.tenant(for: credential, logger: logger) else {
            accepted[key] = nil
            return nil
        }
        if accepted.count >= maximumEntries {
            let newestFirst = accepted.sorted { $0.value.at > $1.value.at }
            accepted = Dictionary(uniqueKeysWithValues: newestFirst.prefix(maximumEntries / 2).map { ($0.key, $0.value) })
        }
        // Dated from before the lookup: a revocation committed during it still counts from then.
        accepted[key] = (tenant, checkedAt)
        return tenant
    }

    /// Forgets every acceptance of a tenant's credentials: called when this process deletes the tenant, so
    /// its keys stop working here at once (other processes see it within `lifetime`).
    func forget(tenant: TenantID) {
        accepted = accepted.filter { $0.value.tenant != tenant }
    }
}
