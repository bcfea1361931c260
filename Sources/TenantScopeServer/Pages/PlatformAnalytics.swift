/// The platform operators' page: learner growth across tenants, feature adoption, and a table of
/// tenants with a preview link each. Every view of it is audited by the reports it runs.
enum PlatformAnalytics {}
