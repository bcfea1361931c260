import Foundation
import Logging
import PostgresNIO
import TenantScopeCore

/// What the Activities and Agents resources (xAPI 1.0.3 Communication 2.4, 2.5) read from a tenant's
/// statements, in its scoped transaction: only its own statements ever contribute.
extension StatementStore {
    /// How many statements at most contribute to one answer (the newest): enough to gather every
    /// language of a definition, bounded so one request stays cheap whatever the history.
    static let objectLookupLimit = 200

    /// The definitions given to an activity as a statement's object, oldest first.
    public func activityDefinitions(id: String, in scope: TenantScope, logger: Logger) async throws -> [JSONValue] {
        try await sessions.run(scope, logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT d::text FROM (
                  SELECT s.statement -> 'object' -> 'definition' AS d, s.stored
                  FROM app.statements s
                  WHERE s.object_id = \(id) AND coalesce(s.statement -> 'object' ->> 'objectType', 'Activity') = 'Activity'
                    AND s.statement -> 'object' ? 'definition'
                  ORDER BY s.stored DESC
                  LIMIT \(Self.objectLookupLimit)
                ) newest
                ORDER BY newest.stored
                """)
            var definitions: [JSONValue] = []
            for try await text in rows.decode(String.self) {
                if let value = try? JSONParser.parse(Array(text.utf8)) { definitions.append(value) }
            }
            return definitions
        }
    }

    /// The names statements gave an actor (by its canonical key), most used first.
    public func actorNames(key: String, in scope: TenantScope, logger: Logger) async throws -> [String] {
        try await sessions.run(scope, logger: logger) { connection in
            let rows = try await connection.query("""
                SELECT actor_name FROM (
                  SELECT s.actor_name FROM app.statements s
                  WHERE s.actor_key = \(key) AND s.actor_name IS NOT NULL
                  ORDER BY s.stored DESC
                  LIMIT \(Self.objectLookupLimit)
                ) newest
                GROUP BY actor_name
                ORDER BY count(*) DESC, actor_name
                """)
            var names: [String] = []
            for try await name in rows.decode(String.self) { names.append(name) }
            return names
        }
    }
}
