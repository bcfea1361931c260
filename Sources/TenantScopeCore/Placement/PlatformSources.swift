import Foundation

/// The per-tenant roll-ups platform SQL reads, and how one platform query reads them from every cluster
/// (architecture decision 49).
///
/// Platform SQL reads only per-tenant roll-ups and aggregates them at query time, and a tenant's rows are
/// all on its one cluster. So each dedicated cluster answers ``partialSQL`` (its own tenants' rows of each
/// source, in the report's window) and the pool runs the report's own SQL over its rows plus those:
/// ``merged(_:)`` reads each source through a CTE of the same name that unions the two. `app.tenants` is
/// read as it is: the control database lists every tenant, wherever its rows are.
///
/// Each cluster's rows count only for the tenants the control database places on it: while a tenant moves, its
/// rows are on both clusters for a moment (the copy commits on the target, then the placement switches, then the
/// source's rows go), and a move that failed after its copy committed leaves them there until it is retried.
/// Unfiltered, the tenant was counted twice.
public enum PlatformSources {
    public struct Source: Sendable {
        /// How platform SQL names the source; replaced by `name` in the merged query.
        public var reference: String
        /// The CTE's name, and the bind placeholder of the partial rows (`:fanout_<name>`, a `text[]` of JSON arrays).
        public var name: String
        /// The source's columns and their types, as the partial rows are read back.
        public var columns: String
        /// The source read in this database.
        public var local: String
        /// What a cluster's partial rows are limited to (the widest window the report can ask for), or "".
        public var window: String
    }

    public static let all: [Source] = [
        Source(reference: "app.daily_active_learners", name: "daily_active_learners",
               columns: "tenant_id uuid, day date, learners integer, statements bigint",
               local: "SELECT tenant_id, day, learners, statements FROM app.daily_active_learners",
               window: "WHERE day >= current_date - (:days::int - 1)"),
        Source(reference: "app.daily_feature_usage", name: "daily_feature_usage",
               columns: "tenant_id uuid, day date, feature_key text, events integer, actors integer",
               local: "SELECT tenant_id, day, feature_key, events, actors FROM app.daily_feature_usage",
               window: "WHERE day >= current_date - (:days::int - 1)"),
        Source(reference: "app.platform_window_learners(:days::int)", name: "platform_window_learners",
               columns: "tenant_id uuid, window_active_learners bigint",
               local: "SELECT tenant_id, window_active_learners FROM app.platform_window_learners(:days::int)",
               window: ""),
    ]

    /// `sql` with each source's reference replaced by its merged CTE's name: the query's body in ``merged(_:)``.
    /// Throws when it still names a roll-up the merge does not know.
    static func readingMergedSources(_ sql: String) throws(TenantScopeError) -> String {
        var body = sql
        for source in all { body = body.replacingOccurrences(of: source.reference, with: source.name) }
        for unknown in ["app.daily_", "app.platform_", "app.learner_active_days", "app.rollup_"] where body.contains(unknown) {
            throw .invalidInput("this platform report reads \(unknown)… , which cannot be merged across clusters")
        }
        return body
    }

    /// The `app.` tables and functions (lower case) `sql`, a platform query, would still read in this database alone
    /// once merged: those the merge misses, spelled otherwise than its references or not a source at all, beyond the
    /// control tables. Empty for a query whose answer covers every cluster.
    public static func unmergedReads(_ sql: String) throws(TenantScopeError) -> Set<String> {
        SQLText.referencedTables(try readingMergedSources(sql)).subtracting(controlTables)
    }

    /// Tables platform SQL reads as they are in this database, without a merge: the control database's, which list
    /// every tenant wherever its rows are (``ReportCatalog`` refuses any other `app.` name the merge leaves).
    public static let controlTables: Set<String> = ["tenants"]

    /// What each dedicated cluster answers, in the platform scope: one JSON array of its rows per source, in
    /// the order of ``all``. `:days` is the report's window.
    public static var partialSQL: String {
        "SELECT " + all.map { "(SELECT coalesce(jsonb_agg(s), '[]')::text FROM (\($0.local) \($0.window)) s)" }.joined(separator: ", ")
    }

    /// `sql` (a platform query) reading each source from this database and from the partial rows bound as
    /// `:fanout_<name>`, each array's element from the cluster named at the same place of `:fanout_clusters`, each
    /// cluster's rows (this database's too) kept only for the tenants placed on it. Throws when the query reads a
    /// roll-up this merge does not know: its answer across clusters would silently miss rows.
    public static func merged(_ sql: String) throws(TenantScopeError) -> String {
        let body = try readingMergedSources(sql)
        let sources = all.map { source in
            """
            \(source.name) AS (
              SELECT l.* FROM (\(source.local)) l
              WHERE l.tenant_id IN (SELECT t.id FROM app.tenants t WHERE t.cluster = '\(ClusterName.pool.rawValue)')
              UNION ALL
              SELECT p.* FROM unnest(:fanout_\(source.name)::text[], :fanout_clusters::text[]) AS a(rows, cluster),
                              jsonb_to_recordset(a.rows::jsonb) AS p(\(source.columns))
              WHERE p.tenant_id IN (SELECT t.id FROM app.tenants t WHERE t.cluster = a.cluster)
            )
            """
        }.joined(separator: ",\n")
        let trimmed = body.drop { $0.isWhitespace }
        if trimmed.prefix(5).uppercased() == "WITH " {
            return "WITH " + sources + ",\n" + trimmed.dropFirst(5)
        }
        return "WITH " + sources + "\n" + trimmed
    }
}

/// Which clusters a platform answer covers: every cluster that answered, and each that did not, with why.
public struct ClusterCoverage: Sendable, Hashable {
    public struct Missing: Sendable, Hashable {
        public var cluster: ClusterName
        public var reason: String

        public init(cluster: ClusterName, reason: String) {
            self.cluster = cluster
            self.reason = reason
        }
    }

    public var answered: [ClusterName]
    public var missing: [Missing]

    public init(answered: [ClusterName], missing: [Missing]) {
        self.answered = answered
        self.missing = missing
    }

    public var isComplete: Bool { missing.isEmpty }
}
