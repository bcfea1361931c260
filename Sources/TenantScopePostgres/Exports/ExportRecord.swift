import TenantScopeCore

/// One unit an export reader hands to its writer.
public enum ExportRecord: Sendable {
    /// A report's columns, before its first row.
    case columns([String])
    /// One report row, in the order of the columns.
    case row([ReportCell])
    /// One JSON value as text (a stored statement, or a learner's record), written as is.
    case json(String)
}
