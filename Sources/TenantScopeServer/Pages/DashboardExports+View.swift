import Plot
import TenantScopeCore

extension DashboardExports {
    /// Renders the exports page: one table of jobs under the header, or a line saying there are none.
    /// While a job is queued or running a status line says so and offers to check again or to reload
    /// every few seconds until done (a meta refresh: pages run no script), which it then offers to stop.
    struct View {
        let model: Model

        func render() -> String {
            PageLayout(
                title: "Exports",
                subtitle: model.seesAllExports ? "Every export of your organisation's data, newest first" : "The exports you started, newest first",
                back: ("Learning dashboard", model.filters.url("/dashboards/learning")),
                refreshSeconds: model.reloads ? Model.refreshSeconds : nil,
                content: [.div(.class("grid single"), panel)],
                footer: "Download links are signed for 24 hours and renewed each time this page loads. Files are kept for "
                    + "\(model.retentionDays) days. Times are UTC."
            ).render()
        }

        var panel: Node<HTML.BodyContext> {
            PanelView(
                id: "exports", title: model.seesAllExports ? "All exports" : "Your exports",
                summary: "“Export CSV” on a dashboard panel adds one here; its file can be downloaded once it is done",
                content: [
                    .if(model.isWorking, progress),
                    model.exports.isEmpty
                        ? .p(.class("empty"), .attr("role", "status"), .text("No exports yet."))
                        : table,
                ]
            ).node
        }

        /// How many jobs are still to finish, and the links that check them again.
        var progress: Node<HTML.BodyContext> {
            let count = model.exports.filter { $0.state == .queued || $0.state == .running }.count
            let text = count == 1 ? "1 export is queued or running." : "\(count) exports are queued or running."
            return .p(
                .class("note"), .attr("role", "status"), .text(text + " "),
                model.reloads
                    ? .group(.text("This page reloads every \(Model.refreshSeconds) seconds until they finish. "),
                             .a(.attr("href", model.url(autoReload: false)), .text("Stop reloading")))
                    : .group(.a(.attr("href", model.url(autoReload: false)), .text("Check again")), .text(" · "),
                             .a(.attr("href", model.url(autoReload: true)), .text("Reload every \(Model.refreshSeconds) seconds until done")))
            )
        }

        var table: Node<HTML.BodyContext> {
            // On a phone the rows and the size give way (`wide-only`), so that what, state, when and the
            // link fit without scrolling sideways.
            .div(.class("table-scroll"), .attr("role", "region"), .attr("aria-label", "Exports, table"), .attr("tabindex", "0"), .table(
                .class("exports"),
                .caption(.class("visually-hidden"), .text("Exports")),
                .thead(.tr(
                    .th(.attr("scope", "col"), .text("Export")),
                    .th(.attr("scope", "col"), .text("State")),
                    .th(.attr("scope", "col"), .class("num wide-only"), .text("Rows")),
                    .th(.attr("scope", "col"), .class("num wide-only"), .text("Size")),
                    .th(.attr("scope", "col"), .text("Created")),
                    .th(.attr("scope", "col"), .text("File")))),
                .tbody(.forEach(model.exports) { export in
                    .tr(
                        .th(.attr("scope", "row"), .text(export.what),
                            .span(.class("actor"), .text((export.parameters + [export.format]).joined(separator: " · ")))),
                        .td(.text(Self.state(export.state)), .unwrap(export.error) { .span(.class("actor"), .text($0)) }),
                        .td(.class("num wide-only"), .text(export.state == .queued ? FigureText.none : FigureText.count(export.rows))),
                        .td(.class("num wide-only"), .text(FigureText.bytes(export.sizeBytes))),
                        .td(.time(.attr("datetime", export.created), .text(DayText.timestamp(export.created))),
                            .if(model.seesAllExports, .span(.class("actor"), .text("by \(export.requestedBy)")))),
                        .td(export.downloadURL.map { url in
                            .a(.attr("href", url), .text("Download"),
                               .span(.class("visually-hidden"), .text(" \(export.what), created \(DayText.timestamp(export.created))")))
                        } ?? .text(FigureText.none)))
                })))
        }

        /// A job's state as the page writes it.
        static func state(_ state: ExportState) -> String {
            switch state {
            case .queued: "Queued"
            case .running: "Running"
            case .done: "Done"
            case .failed: "Failed"
            case .expired: "Expired"
            case .revoked: "Revoked"
            }
        }
    }
}
