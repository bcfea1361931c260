/// A catch-up gave up waiting for its tenant's derivation lock (``RollupService/defaultLockWait``, `serve
/// --rollup-lock-wait`): another derivation of the tenant holds it, a pass of another server, a learner erasure or
/// `rollups rebuild`. The catch-up changed nothing; the tenant's queued work waits for the next pass (architecture
/// decision 86).
public struct RollupTenantBusy: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String {
        "another derivation of the tenant (a pass of another server, a learner erasure or `rollups rebuild`) held its lock "
            + "longer than the roll-up service waits for it; its queued work waits for the next pass"
    }
}
