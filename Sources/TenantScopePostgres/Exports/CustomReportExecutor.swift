import Logging
import TenantScopeCore

/// Runs a custom report's SQL for an export: the guarded SQL surface (parser guard, sandbox role, row-level
/// security), which lives with the parser in the server module. ``ExportReader`` asks it for the rows of a
/// `custom_report` export, never running the text itself.
public protocol CustomReportExecutor: Sendable {
    /// Streams the rows of `sql` in `scope`, at most `rowCap`, within `timeLimit`; returns whether more were there.
    func stream(_ sql: String, in scope: TenantScope, rowCap: Int, timeLimit: Duration, logger: Logger,
                columns: @escaping @Sendable ([SQLResult.Column]) async throws -> Void,
                row: @escaping @Sendable ([SQLValue]) async throws -> Void) async throws -> Bool
}
