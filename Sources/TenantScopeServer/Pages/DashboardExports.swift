/// The exports page of the dashboard: the session user's export jobs (a tenant admin's: all of the
/// tenant's), newest first, with their state and, once done, a signed download link.
/// ``DashboardExports/Model`` holds what it shows, read from ``ExportStatus``es; ``DashboardExports/View``
/// renders it.
enum DashboardExports {}
