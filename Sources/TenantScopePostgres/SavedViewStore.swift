import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// Saved dashboard views and their shared links, always in the owning tenant's scope: each operation is one statement,
/// run as one call of its session function (architecture decision 62), on the primary so a tenant sees its own writes.
public struct SavedViewStore: Sendable {
    let sessions: ScopedDatabase
    /// The server login's pool of every cluster, the pool's first: a link's index row is in its tenant's cluster.
    let clusterPools: ClusterPools
    public let linkSigner: SharedLinkSigner

    public struct SavedView: Sendable, Hashable {
        public var id: UUID
        public var name: String
        public var days: Int
        public var course: String?
    }

    public struct SharedLink: Sendable, Hashable {
        public var id: UUID
        public var viewName: String
        public var expiresAt: Date
        public var revoked: Bool
    }

    /// Saves a view under a name unique in the tenant; the scope's actor is recorded as its creator.
    public func save(in scope: TenantScope, name: String, days: Int, course: String?, logger: Logger) async throws -> SavedView {
        let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
        // Counted as the column's CHECK counts (`length`: code points), not in grapheme clusters: "é" written
        // as e + U+0301 is one Character but two characters to PostgreSQL.
        guard (1...100).contains(trimmed.unicodeScalars.count) else { throw TenantScopeError.invalidInput("a view name has 1 to 100 characters") }
        let rows = try await sessions.writeRows(scope, BoundStatement(sql: """
            INSERT INTO app.saved_views (name, days, course, created_by) VALUES (($1::text), ($2::int8), ($3::text), ($4::text))
            ON CONFLICT (tenant_id, name) DO NOTHING RETURNING id
            """, values: [.text(trimmed), .integer(days), .text(course), .text(scope.actor)]), columnTypes: ["uuid"], logger: logger)
        guard let id = try rows.first?.decode(UUID.self) else {
            throw TenantScopeError.conflict("a view named '\(trimmed)' already exists")
        }
        return SavedView(id: id, name: trimmed, days: days, course: course)
    }

    public func views(in scope: TenantScope, logger: Logger) async throws -> [SavedView] {
        try await sessions.readRows(scope, BoundStatement(sql: "SELECT id, name, days, course FROM app.saved_views ORDER BY name", values: []),
                                    columnTypes: Self.viewColumns, replicas: false, logger: logger).rows.map(Self.view)
    }

    /// The columns a view is read as, and the view of such a row.
    static let viewColumns = ["uuid", "text", "int8", "text"]

    static func view(_ row: PostgresRow) throws -> SavedView {
        let (id, name, days, course) = try row.decode((UUID, String, Int, String?).self)
        return SavedView(id: id, name: name, days: days, course: course)
    }

    /// Creates a link to one of the tenant's views; nil when the tenant has no such view.
    public func share(in scope: TenantScope, view: UUID, lifetime: Duration, logger: Logger) async throws -> (link: UUID, token: String)? {
        let expires = Date().addingTimeInterval(Double(lifetime.components.seconds))
        let link = try await sessions.writeRows(scope, BoundStatement(sql: """
            INSERT INTO app.shared_links (view_id, expires_at, created_by)
            SELECT v.id, ($1::timestamptz), ($2::text) FROM app.saved_views v WHERE v.id = ($3::uuid)
            RETURNING id
            """, values: [.timestamp(expires), .text(scope.actor), .uuid(view)]), columnTypes: ["uuid"], logger: logger).first?.decode(UUID.self)
        return link.map { ($0, linkSigner.token(link: $0, expires: expires)) }
    }

    public func links(in scope: TenantScope, logger: Logger) async throws -> [SharedLink] {
        try await sessions.readRows(scope, BoundStatement(sql: """
            SELECT l.id, v.name, l.expires_at, l.revoked_at IS NOT NULL
            FROM app.shared_links l JOIN app.saved_views v ON v.id = l.view_id ORDER BY l.created_at DESC
            """, values: []), columnTypes: ["uuid", "text", "timestamptz", "boolean"], replicas: false, logger: logger).rows.map { row in
            let (id, name, expires, revoked) = try row.decode((UUID, String, Date, Bool).self)
            return SharedLink(id: id, viewName: name, expiresAt: expires, revoked: revoked)
        }
    }

    /// Revokes one of the tenant's links; false when the tenant has no such active link.
    public func revoke(in scope: TenantScope, link: UUID, logger: Logger) async throws -> Bool {
        try await sessions.writeRows(scope, BoundStatement(sql: """
            UPDATE app.shared_links SET revoked_at = now() WHERE id = ($1::uuid) AND revoked_at IS NULL RETURNING id
            """, values: [.uuid(link)]), columnTypes: ["uuid"], logger: logger).count == 1
    }

    /// Opens a shared-link token: the creating tenant's scope and the view, or nil for a forged, expired
    /// or revoked link. The tenant comes from the private link index, keyed by the verified link id.
    public func resolve(token: String, logger: Logger) async throws -> (scope: TenantScope, view: SavedView)? {
        guard let link = linkSigner.link(fromToken: token) else { return nil }
        var owner: UUID?
        for (_, pool) in clusterPools.pools where owner == nil {
            owner = try await pool.query("SELECT app.shared_link_tenant(\(link))", logger: logger).first?.decode(UUID?.self)
        }
        guard let owner else { return nil }
        let scope = ScopePolicy.sharedLink(of: TenantID(owner))
        let view = try await sessions.readRows(scope, BoundStatement(sql: """
            SELECT v.id, v.name, v.days, v.course FROM app.shared_links l JOIN app.saved_views v ON v.id = l.view_id
            WHERE l.id = ($1::uuid) AND l.revoked_at IS NULL AND l.expires_at > now()
            """, values: [.uuid(link)]), columnTypes: Self.viewColumns, replicas: false, logger: logger).rows.first.map(Self.view)
        return view.map { (scope, $0) }
    }
}
