import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// What the Activities and Agents resources (xAPI 1.0.3 Communication 2.4, 2.5) read from a tenant's
/// statements, in its scope (one call of each text's read function, on the primary; architecture decision 62): only its
/// own statements ever contribute.
extension StatementStore {
    /// How many statements at most contribute to one answer (the newest): enough to gather every
    /// language of a definition, bounded so one request stays cheap whatever the history.
    static let objectLookupLimit = 200

    /// The definitions given to an activity as a statement's object, oldest first.
    public func activityDefinitions(id: String, in scope: TenantScope, logger: Logger) async throws -> [JSONValue] {
        let statement = BoundStatement(sql: """
            SELECT d::text FROM (
              SELECT s.statement -> 'object' -> 'definition' AS d, s.stored
              FROM app.statements s
              WHERE s.object_id = ($1::text) AND coalesce(s.statement -> 'object' ->> 'objectType', 'Activity') = 'Activity'
                AND s.statement -> 'object' ? 'definition'
              ORDER BY s.stored DESC
              LIMIT \(Self.objectLookupLimit)
            ) newest
            ORDER BY newest.stored
            """, values: [.text(id)])
        let rows = try await sessions.readRows(scope, statement, columns: [.text], replicas: false, logger: logger).rows
        return try rows.compactMap { row in
            let text = try row.decode(String.self)
            return try? JSONParser.parse(Array(text.utf8))
        }
    }

    /// The names statements gave an actor (by its canonical key), most used first.
    public func actorNames(key: String, in scope: TenantScope, logger: Logger) async throws -> [String] {
        let statement = BoundStatement(sql: """
            SELECT actor_name FROM (
              SELECT s.actor_name FROM app.statements s
              WHERE s.actor_key = ($1::text) AND s.actor_name IS NOT NULL
              ORDER BY s.stored DESC
              LIMIT \(Self.objectLookupLimit)
            ) newest
            GROUP BY actor_name
            ORDER BY count(*) DESC, actor_name
            """, values: [.text(key)])
        return try await sessions.readRows(scope, statement, columns: [.text], replicas: false, logger: logger).rows
            .map { try $0.decode(String.self) }
    }
}
