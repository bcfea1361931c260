import Foundation
import TenantScopeCore
import TenantScopePostgres

/// The HTML of the tenant dashboard and the platform analytics page, built from report results.
/// Pages carry no script and load nothing from anywhere: styles are inline, charts are inline SVG.
enum DashboardPages {
    /// The period choices of the filter form, in days.
    static let periods = [7, 30, 90, 180, 365]

    struct Filters: Sendable, Hashable {
        var days = 30
        var course: String?

        /// Parameters for the enrollment-based reports: enrollments from the start of the period on.
        func enrollmentParameters(today: Date = Date()) -> [(String, String)] {
            var parameters = [("since", ISO8601Timestamp.day(today.addingTimeInterval(Double(-(days - 1)) * 86_400)))]
            if let course { parameters.append(("course", course)) }
            return parameters
        }
    }

    static func layout(title: String, banner: String? = nil, body: String) -> String {
        """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
        <meta name="referrer" content="no-referrer"><title>\(Charts.escape(title))</title>
        <style>\(css)</style></head>
        <body>\(banner.map { "<div class=\"banner\" role=\"status\">\(Charts.escape($0))</div>" } ?? "")
        <main><h1>\(Charts.escape(title))</h1>\(body)</main></body></html>
        """
    }

    static let css = """
        body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2633;background:#f6f8fb}
        main{max-width:1100px;margin:0 auto;padding:16px 20px 40px}h1{font-size:1.45rem;margin:.3rem 0 1rem}
        h2{font-size:1.05rem;margin:0}.summary{margin:.2rem 0 .5rem;color:#4a5868}
        .banner{background:#7a2e0e;color:#fff;padding:8px 20px;font-weight:600}
        .grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(430px,1fr));gap:16px}
        .chart{background:#fff;border:1px solid #dfe5ee;border-radius:8px;margin:0;padding:12px 14px}
        svg .series{stroke:#2266cc;stroke-width:2}svg .dot{fill:#2266cc}svg .bar{fill:#3b7dd8}
        svg .grid{stroke:#e6ebf2}svg .axis{stroke:#8a96a6}svg .tick{font-size:11px;fill:#4a5868}
        svg .axis-label{font-size:12px;fill:#1d2633}svg .empty{font-size:14px;fill:#6b7888}
        table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e6ebf2}
        details.data{margin-top:6px;font-size:13px}p.empty{color:#6b7888}
        form.filters{display:flex;gap:12px;align-items:end;flex-wrap:wrap;margin-bottom:16px}
        label{display:flex;flex-direction:column;font-size:13px;color:#4a5868}select,input,button{font:inherit;padding:4px 6px}
        .views{margin:0 0 16px;font-size:13px}.views a{margin-right:10px}
        """

    // MARK: - Tenant dashboard

    struct TenantDashboard {
        var activeLearners: ReportResult
        var completion: ReportResult
        var timeToComplete: ReportResult
        var cohorts: ReportResult
    }

    static func tenantDashboard(
        _ data: TenantDashboard, filters: Filters, courses: [String], action: String?, banner: String?, savedViews: String = ""
    ) -> String {
        let window = data.activeLearners.rows.first.flatMap { $0.count > 2 ? integer($0[2]) : nil } ?? 0
        let active = Charts.line(
            id: "active-learners", title: "Active learners", xLabel: "Day (UTC)", yLabel: "Learners",
            points: data.activeLearners.rows.map { .init(text($0[0]), Double(integer($0[1]) ?? 0)) },
            summary: "\(window) distinct active learners in the last \(filters.days) days")
        let completion = Charts.bars(
            id: "completion-rate", title: "Completion rate by course", xLabel: "Course", yLabel: "Completion rate",
            points: data.completion.rows.map { .init(text($0[0]), number($0[3])) }, maximum: 1, percent: true,
            summary: "Share of enrollments since the start of the period that were completed")
        let histogram = Charts.bars(
            id: "time-to-complete", title: "Time to complete", xLabel: "Days from enrollment to completion", yLabel: "Completions",
            points: data.timeToComplete.rows.map { .init("\(integer($0[0]) ?? 0)–\(integer($0[1]) ?? 0)", Double(integer($0[2]) ?? 0)) },
            summary: "Completions by how long they took, in 7-day buckets")
        let cohorts = Charts.heatTable(
            id: "cohort-comparison", title: "Cohort comparison",
            columns: ["Cohort", "Enrolled", "Completed", "Completion rate", "Change vs previous", "Rank"],
            rows: data.cohorts.rows.map { row in
                [text(row[0]), text(row[1]), text(row[2]), percent(row[3]), signedPercent(row[4]), text(row[5])]
            },
            heat: [3: data.cohorts.rows.map { optionalNumber($0[3]) }],
            summary: "Completion rate per cohort, shaded from lowest to highest")

        let periodOptions = periods.map { "<option value=\"\($0)\"\($0 == filters.days ? " selected" : "")>Last \($0) days</option>" }.joined()
        let courseOptions = (["<option value=\"\">All courses</option>"] + courses.map { course in
            "<option value=\"\(Charts.escape(course))\"\(course == filters.course ? " selected" : "")>\(Charts.escape(course))</option>"
        }).joined()
        let form = action.map { action in """
            <form class="filters" method="get" action="\(Charts.escape(action))">
            <label>Period<select name="days">\(periodOptions)</select></label>
            <label>Course<select name="course">\(courseOptions)</select></label>
            <button type="submit">Apply</button></form>
            """ } ?? "<p class=\"summary\">Last \(filters.days) days\(filters.course.map { ", course \(Charts.escape($0))" } ?? "")</p>"
        return layout(title: "Learning dashboard", banner: banner,
                      body: form + savedViews + "<div class=\"grid\">" + active + completion + histogram + cohorts + "</div>")
    }

    /// The dashboard URL of a set of filters (a saved view); it never names a tenant.
    static func viewURL(days: Int, course: String?) -> String {
        var url = "/dashboards/learning?days=\(days)"
        if let course, let encoded = course.addingPercentEncoding(withAllowedCharacters: .alphanumerics) { url += "&course=" + encoded }
        return url
    }

    /// Saved views as links, and for admins the forms to save, share and revoke.
    static func savedViews(_ views: [SavedViewStore.SavedView], links: [SavedViewStore.SharedLink], filters: Filters,
                           isAdmin: Bool, formToken: String) -> String {
        let token = "<input type=\"hidden\" name=\"form_token\" value=\"\(Charts.escape(formToken))\">"
        var html = "<section class=\"views\" aria-label=\"Saved views\"><strong>Saved views:</strong> "
        html += views.isEmpty ? "none yet " : views.map { view in
            var item = "<a href=\"\(Charts.escape(viewURL(days: view.days, course: view.course)))\">\(Charts.escape(view.name))</a>"
            if isAdmin {
                item += "<form method=\"post\" action=\"/dashboards/learning/views/\(view.id.uuidString.lowercased())/share\" style=\"display:inline\">\(token)<button type=\"submit\">Share</button></form> "
            }
            return item
        }.joined()
        if isAdmin {
            html += """
                <form method="post" action="/dashboards/learning/views" style="display:inline">\(token)
                <input type="hidden" name="days" value="\(filters.days)"><input type="hidden" name="course" value="\(Charts.escape(filters.course ?? ""))">
                <input name="name" required maxlength="100" placeholder="Name this view" aria-label="View name"><button type="submit">Save view</button></form>
                """
            let active = links.filter { !$0.revoked && $0.expiresAt > Date() }
            if !active.isEmpty {
                html += "<br><strong>Shared links:</strong> " + active.map { link in
                    "\(Charts.escape(link.viewName)) (until \(ISO8601Timestamp.day(link.expiresAt)))"
                        + "<form method=\"post\" action=\"/dashboards/links/\(link.id.uuidString.lowercased())/revoke\" style=\"display:inline\">\(token)<button type=\"submit\">Revoke</button></form>"
                }.joined(separator: " ")
            }
        }
        return html + "</section>"
    }

    // MARK: - Platform page

    static func platformPage(growth: ReportResult, adoption: ReportResult, tenants: ReportResult, operatorName: String, days: Int) -> String {
        let line = Charts.line(
            id: "platform-growth", title: "Active learners across tenants", xLabel: "Day (UTC)", yLabel: "Learners",
            points: growth.rows.map { .init(text($0[0]), Double(integer($0[1]) ?? 0)) },
            summary: "\(growth.rows.first.flatMap { integer($0[2]) } ?? 0) distinct learners in the last \(days) days, aggregated from per-tenant roll-ups")
        let bars = Charts.bars(
            id: "feature-adoption", title: "Feature adoption", xLabel: "Feature", yLabel: "Share of tenants",
            points: adoption.rows.map { .init(text($0[0]), number($0[3])) }, maximum: 1, percent: true,
            summary: "Share of tenants that used each feature in the period")
        var table = "<figure class=\"chart\" id=\"tenant-table\"><figcaption><h2>Tenants</h2><p class=\"summary\">Each tenant's own figures for the period; preview opens a tenant's dashboard as that tenant (audited).</p></figcaption>"
        table += "<table><thead><tr>" + tenants.fields.map { "<th scope=\"col\">\(Charts.escape($0.title))</th>" }.joined() + "<th scope=\"col\">Preview</th></tr></thead><tbody>"
        for row in tenants.rows {
            let slug = text(row[0])
            table += "<tr>" + row.map { "<td>\(Charts.escape($0.description))</td>" }.joined()
            table += "<td><a href=\"/platform/preview/\(Charts.escape(slug))\">Open as tenant</a></td></tr>"
        }
        table += tenants.rows.isEmpty ? "<tr><td colspan=\"\(tenants.fields.count + 1)\">No tenants yet</td></tr>" : ""
        table += "</tbody></table></figure>"
        return layout(title: "Platform analytics", banner: "Platform scope — signed in as \(operatorName); every view here is audited",
                      body: "<div class=\"grid\">" + line + bars + "</div>" + table)
    }

    static func message(title: String, text: String) -> String {
        layout(title: title, body: "<p>\(Charts.escape(text))</p>")
    }

    // MARK: - Cells

    static func text(_ cell: ReportCell) -> String { cell.description }

    static func integer(_ cell: ReportCell) -> Int? {
        if case .integer(let value) = cell { return value }
        return nil
    }

    static func number(_ cell: ReportCell) -> Double {
        switch cell {
        case .number(let value): value
        case .integer(let value): Double(value)
        default: 0
        }
    }

    static func optionalNumber(_ cell: ReportCell) -> Double? {
        switch cell {
        case .number(let value): value
        case .integer(let value): Double(value)
        default: nil
        }
    }

    static func percent(_ cell: ReportCell) -> String {
        optionalNumber(cell).map { String(format: "%.1f%%", $0 * 100) } ?? "–"
    }

    static func signedPercent(_ cell: ReportCell) -> String {
        optionalNumber(cell).map { String(format: "%+.1f pt", $0 * 100) } ?? "–"
    }
}
