extension Migration {
    /// Reviewed custom reports (architecture decision 43): a tenant admin saves a query of the guarded SQL
    /// surface as a draft, previews it (which records the SHA-256 of the text it previewed) and approves
    /// it; only an approved report whose text is the previewed one can run, for that tenant only (row-level
    /// security, like every tenant table).
    static let customReports = Migration(version: 21, name: "custom reports", statements: [
        """
        CREATE TABLE app.custom_reports (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          name text NOT NULL CHECK (name ~ '^[a-z][a-z0-9_]{0,62}$'),
          title text NOT NULL CHECK (length(title) BETWEEN 1 AND 200),
          sql text NOT NULL CHECK (length(sql) BETWEEN 1 AND 20000),
          sql_sha256 text NOT NULL CHECK (sql_sha256 ~ '^[0-9a-f]{64}$'),
          state text NOT NULL DEFAULT 'draft' CHECK (state IN ('draft', 'previewed', 'approved')),
          created_by text NOT NULL,
          created_at timestamptz NOT NULL DEFAULT now(),
          previewed_by text,
          previewed_at timestamptz,
          previewed_sha256 text,
          approved_by text,
          approved_at timestamptz,
          PRIMARY KEY (tenant_id, name),
          CHECK (state = 'draft' OR previewed_sha256 = sql_sha256),
          CHECK (state <> 'approved' OR approved_at IS NOT NULL)
        )
        """,
        "CALL app_private.protect_tenant_table('app.custom_reports')",
    ])
}
