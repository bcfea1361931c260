/// Cross-tenant scope for one platform operator: per-tenant roll-ups only, every query audited.
///
/// Created only by ``ScopePolicy`` from a ``PlatformOperator``.
public struct PlatformScope: Hashable, Sendable {
    public let operatorName: String

    init(operatorName: String) {
        self.operatorName = operatorName
    }
}
