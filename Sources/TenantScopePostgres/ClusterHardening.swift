/// Privileges removed from PUBLIC so a tenant-scoped session cannot escape its row-level security.
///
/// Each line answers an attack in shared/design/SECURITY.md. These statements change functions owned
/// by the bootstrap superuser, so they must run as a superuser: the embedded launcher does so at every
/// start; against an existing server an operator runs
/// `tenantscope db hardening-sql --owner ROLE | psql <superuser URL>`.
/// The migrator refuses to run until they are in place.
public enum ClusterHardening {
    public static func statements(ownerRole: String) -> [String] {
        let owner = "\"" + ownerRole.replacingOccurrences(of: "\"", with: "\"\"") + "\""
        return [
            // set_config(..., true) inside a SELECT could switch tenant context or role.
            "REVOKE EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) FROM PUBLIC",
            // The owner grants it on to the server's login role (and only that role) in the migrations.
            "GRANT EXECUTE ON FUNCTION pg_catalog.set_config(text, text, boolean) TO \(owner) WITH GRANT OPTION",
            // pg_notify in a read-only SELECT could spoof messages to listeners.
            "REVOKE EXECUTE ON FUNCTION pg_catalog.pg_notify(text, text) FROM PUBLIC",
            // Advisory locks survive commit on a pooled connection; the owner keeps them for the migration lock.
            """
            DO $$
            DECLARE f regprocedure;
            BEGIN
              FOR f IN SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
                       WHERE p.pronamespace = 'pg_catalog'::regnamespace
                         AND (p.proname LIKE 'pg\\_advisory%' OR p.proname LIKE 'pg\\_try\\_advisory%')
              LOOP
                EXECUTE format('REVOKE EXECUTE ON FUNCTION %s FROM PUBLIC', f);
                EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO %I', f, \(literal(ownerRole)));
              END LOOP;
            END $$
            """,
            "REVOKE CREATE ON SCHEMA public FROM PUBLIC",
            // temp_file_limit is superuser-only; the owner passes it on to the tenant role (migration 20), which sets
            // it for the guarded SQL surface's sandbox before switching role (PostgreSQL 15's parameter privileges).
            "GRANT SET ON PARAMETER temp_file_limit TO \(owner) WITH GRANT OPTION",
        ]
    }

    /// A query returning one row, `true` when every revoke above is in force in the current database.
    public static let verificationQuery = """
        SELECT has_parameter_privilege('temp_file_limit', 'SET WITH GRANT OPTION') AND bool_and(p.proacl IS NOT NULL AND NOT EXISTS (
                 SELECT 1 FROM aclexplode(p.proacl) a WHERE a.grantee = 0 AND a.privilege_type = 'EXECUTE'))
        FROM pg_catalog.pg_proc p
        WHERE p.pronamespace = 'pg_catalog'::regnamespace
          AND (p.oid = 'pg_catalog.set_config(text, text, boolean)'::regprocedure
               OR p.oid = 'pg_catalog.pg_notify(text, text)'::regprocedure
               OR p.proname LIKE 'pg\\_advisory%' OR p.proname LIKE 'pg\\_try\\_advisory%')
        """

    private static func literal(_ text: String) -> String {
        "'" + text.replacingOccurrences(of: "'", with: "''") + "'"
    }
}
