import HTTPTypes
import Hummingbird
import TenantScopeCore
import TenantScopePostgres

/// RFC 4180 CSV of a report result: a header row of column names, then the rows.
enum CSV {
    /// A CSV download of `result`, saved as `<filename>.csv`.
    static func response(_ result: ReportResult, filename: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/csv; charset=utf-8"
        headers[.contentDisposition] = "attachment; filename=\"\(filename).csv\""
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: render(result))))
    }

    static func render(_ result: ReportResult) -> String {
        var lines = [result.fields.map { escape($0.name) }.joined(separator: ",")]
        for row in result.rows {
            lines.append(row.map { escape($0.description) }.joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func escape(_ value: String) -> String {
        CSVField.escape(value)
    }
}
