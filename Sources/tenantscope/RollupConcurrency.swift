import ArgumentParser
import TenantScopePostgres

/// The range check of the options that say how many tenants a roll-up pass catches up at once (`serve
/// --rollup-concurrency`, `--rollup-quiet-concurrency`, `rollups catch-up --concurrency`), with one message for all.
enum RollupConcurrency {
    static func validate(_ value: Int, option: String) throws {
        guard (1...RollupService.maximumConcurrency).contains(value) else {
            throw ValidationError("\(option) takes 1 to \(RollupService.maximumConcurrency) tenants, got \(value)")
        }
    }
}
