extension Migration {
    /// Custom reports on the tenant's other surfaces (architecture decision 43): a tenant admin may pin an
    /// approved report to the dashboard as a panel, and an approved report can be exported. An export job of a
    /// custom report names it in `report` and pins the SHA-256 of the approved text it was requested for in
    /// `parameters`, so a later edit fails the job rather than exporting text nobody approved.
    static let customReportSurfaces = Migration(version: 24, name: "custom report panels and exports", statements: [
        "ALTER TABLE app.custom_reports ADD COLUMN dashboard_panel boolean NOT NULL DEFAULT false",
        "ALTER TABLE app.export_jobs DROP CONSTRAINT export_jobs_source_check",
        "ALTER TABLE app.export_jobs ADD CONSTRAINT export_jobs_source_check CHECK (source IN ('report', 'statements', 'learner', 'custom_report'))",
        "ALTER TABLE app.export_jobs DROP CONSTRAINT export_jobs_check",
        "ALTER TABLE app.export_jobs ADD CONSTRAINT export_jobs_check CHECK ((source IN ('report', 'custom_report')) = (report IS NOT NULL))",
        """
        ALTER TABLE app.export_jobs ADD CONSTRAINT export_jobs_custom_report_check
          CHECK (source <> 'custom_report' OR parameters ->> 'sql_sha256' ~ '^[0-9a-f]{64}$')
        """,
    ])
}
