import Foundation
import TenantScopeCore
import TenantScopePostgres

extension SavedViews {
    struct Model: Sendable, Equatable {
        struct View: Sendable, Equatable {
            var name: String
            /// The dashboard with the view's filters.
            var url: String
            /// Where an admin's Share button posts.
            var shareAction: String
        }

        struct Link: Sendable, Equatable {
            var viewName: String
            /// The last day the link works (UTC).
            var until: String
            var revokeAction: String
        }

        var views: [View]
        /// Links still working; admins only.
        var links: [Link]
        var isAdmin: Bool
        /// Binds the forms to the session (``DashboardSessionSigner/formToken(for:)``).
        var formToken: String
        /// What "Save view" saves: the filters on screen.
        var filters: DashboardFilters
    }
}

extension SavedViews.Model {
    init(views: [SavedViewStore.SavedView], links: [SavedViewStore.SharedLink], filters: DashboardFilters,
         isAdmin: Bool, formToken: String, now: Date) {
        self.init(
            views: views.map { view in
                View(name: view.name, url: DashboardFilters(days: view.days, course: view.course).url("/dashboards/learning"),
                     shareAction: "/dashboards/learning/views/\(view.id.uuidString.lowercased())/share")
            },
            links: isAdmin ? links.filter { !$0.revoked && $0.expiresAt > now }.map { link in
                Link(viewName: link.viewName, until: ISO8601Timestamp.day(link.expiresAt),
                     revokeAction: "/dashboards/links/\(link.id.uuidString.lowercased())/revoke")
            } : [],
            isAdmin: isAdmin, formToken: formToken, filters: filters)
    }
}
