extension Migration {
    /// The xAPI document resources (State, Activity Profile, Agent Profile; xAPI 1.0.3 Communication
    /// 2.3, 2.6, 2.7) in one tenant table. A document is opaque bytes with their Content-Type.
    ///
    /// Absent parts of the key are empty strings, not NULL, so the whole key is the primary key (which
    /// leads with tenant_id, as every tenant index must). The application caps the lengths of the key's
    /// parts (DocumentQuery) and the content (the server's body limit); the CHECKs are the backstop.
    static let documents = Migration(version: 11, name: "xAPI documents", statements: [
        """
        CREATE TABLE app.xapi_documents (
          tenant_id uuid NOT NULL REFERENCES app.tenants (id) ON DELETE CASCADE,
          kind text NOT NULL CHECK (kind IN ('state', 'activity_profile', 'agent_profile')),
          activity_id text NOT NULL CHECK (octet_length(activity_id) <= 1000),
          agent_key text NOT NULL CHECK (octet_length(agent_key) <= 1000),
          registration text NOT NULL CHECK (registration = '' OR registration ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
          document_id text NOT NULL CHECK (octet_length(document_id) BETWEEN 1 AND 500),
          content bytea NOT NULL,
          content_type text NOT NULL CHECK (length(content_type) BETWEEN 1 AND 255),
          etag text NOT NULL CHECK (etag ~ '^[0-9a-f]{40}$'),
          updated timestamptz NOT NULL DEFAULT clock_timestamp(),
          PRIMARY KEY (tenant_id, kind, activity_id, agent_key, registration, document_id)
        )
        """,
        // The ids list filters by `updated` (`since`) within one address.
        "CREATE INDEX xapi_documents_tenant_updated ON app.xapi_documents (tenant_id, kind, updated)",
        "CALL app_private.protect_tenant_table('app.xapi_documents')",
    ])
}
