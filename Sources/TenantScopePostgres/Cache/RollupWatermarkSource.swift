import Foundation
import Logging
import TenantScopeCore

/// Where the report cache reads a tenant's roll-up watermark: ``RollupWatermarks`` in the server; a
/// fixed one in tests, which must be able to give two tenants the same watermark.
public protocol RollupWatermarkSource: Sendable {
    /// The tenant's current watermark, or nil for "do not cache".
    func watermark(of tenant: TenantID, logger: Logger) async -> Date?
}

extension RollupWatermarks: RollupWatermarkSource {}
