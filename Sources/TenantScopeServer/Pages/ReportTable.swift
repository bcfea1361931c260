import TenantScopeCore
import TenantScopePostgres

/// The rows of a report result, read by column name (never by position), for the page models.
/// A column the report does not have is an error, not a silent zero: it means the catalog and the
/// page disagree.
struct ReportTable {
    struct MissingColumn: Error, CustomStringConvertible {
        var report: String
        var column: String
        var description: String { "the report '\(report)' has no column '\(column)'" }
    }

    struct Row {
        fileprivate let cells: [ReportCell]
        fileprivate let columns: [String: Int]
        fileprivate let report: String

        func cell(_ name: String) throws -> ReportCell {
            guard let index = columns[name], cells.indices.contains(index) else { throw MissingColumn(report: report, column: name) }
            return cells[index]
        }

        /// Text (a day reads as `YYYY-MM-DD`); NULL is nil.
        func text(_ name: String) throws -> String? {
            let cell = try cell(name)
            return cell == .null ? nil : cell.description
        }

        func integer(_ name: String) throws -> Int? {
            switch try cell(name) {
            case .integer(let value): value
            case .number(let value): Int(value)
            default: nil
            }
        }

        func number(_ name: String) throws -> Double? {
            switch try cell(name) {
            case .number(let value): value
            case .integer(let value): Double(value)
            default: nil
            }
        }
    }

    let rows: [Row]

    init(_ result: ReportResult) {
        let report = result.request.definition.name
        let columns = Dictionary(result.fields.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
        rows = result.rows.map { Row(cells: $0, columns: columns, report: report) }
    }
}
