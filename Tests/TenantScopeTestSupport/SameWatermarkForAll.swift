import Foundation
import Logging
import TenantScopeCore
import TenantScopePostgres

/// Gives every tenant the same roll-up watermark, so that in the report cache only the tenant in the key
/// keeps two tenants' answers apart: the cache tests fail if the tenant is dropped from the key.
struct SameWatermarkForAll: RollupWatermarkSource {
    let date: Date
    func watermark(of tenant: TenantID, logger: Logger) async -> Date? { date }
}
