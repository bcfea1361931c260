/// The tenant learning dashboard: headline figures, active learners by day, completion by course,
/// time to complete and cohorts, for the session's tenant, a preview or a shared view.
/// ``TenantDashboard/Model`` holds what it shows, read from the reports; ``TenantDashboard/View``
/// renders it.
enum TenantDashboard {}
