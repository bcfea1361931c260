extension Migration {
    /// The content of xAPI attachments sent in `multipart/mixed` statement requests (xAPI 1.0.3 Data
    /// 2.4.11), one row per tenant and SHA-2: statements reference content by hash, so the same bytes sent
    /// twice (or referenced by several statements) are stored once per tenant, and never shared between
    /// tenants (row-level security, like every tenant table).
    ///
    /// The primary key leads with tenant_id, as every tenant index must. The hash CHECK admits SHA-256,
    /// SHA-384 and SHA-512 in lowercase hex, what the application verifies before it stores.
    static let attachments = Migration(version: 12, name: "xAPI attachment content", statements: [
        """
        CREATE TABLE app.xapi_attachments (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          sha2 text NOT NULL CHECK (sha2 ~ '^([0-9a-f]{64}|[0-9a-f]{96}|[0-9a-f]{128})$'),
          content bytea NOT NULL,
          content_type text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 255),
          stored timestamptz NOT NULL DEFAULT clock_timestamp(),
          PRIMARY KEY (tenant_id, sha2)
        )
        """,
        "CALL app_private.protect_tenant_table('app.xapi_attachments')",
    ])
}
