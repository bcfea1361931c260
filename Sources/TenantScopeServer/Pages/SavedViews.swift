/// The saved-views bar of the tenant dashboard: the tenant's saved views as links and, for admins,
/// the forms to save the current filters, share a view and revoke a shared link.
enum SavedViews {}
