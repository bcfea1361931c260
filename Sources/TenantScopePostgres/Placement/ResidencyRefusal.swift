import PostgresNIO
import TenantScopeCore

/// The residency triggers' refusal (migration 27, SQLSTATE 23514) as what it is for the operator: a conflict
/// with the message that names the cluster and the regions.
enum ResidencyRefusal {
    static func conflict(from error: any Error) -> TenantScopeError? {
        guard let error = error as? PSQLError, error.code == .server, error.serverInfo?[.sqlState] == "23514" else { return nil }
        return .conflict(error.serverInfo?[.message] ?? "residency")
    }
}
