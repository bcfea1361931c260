import Hummingbird
import TenantScopeCore

/// The fields of the dashboard's POST forms (saved views, shared links, panel exports), read by
/// ``read(_:context:sessions:)`` only after the form token matched the session: a form another site
/// posts with the user's cookie carries no such token, so it acts for no one.
struct DashboardForm: Decodable {
    var form_token: String?
    var name: String?
    var days: String?
    var course: String?

    /// The largest form body read; the fields are a name, a course and a token.
    static let maximumBodyBytes = 16 * 1024

    /// Reads the form of a POST on a tenant session and checks its token against that session.
    static func read(_ request: Request, context: TenantRequestContext, sessions: DashboardSessionSigner) async throws -> DashboardForm {
        guard let session = context.dashboardSession else { throw TenantScopeError.forbidden("dashboard forms belong to tenant sessions") }
        // The pages' forms are URL-encoded; another encoding read as one lost its token and was called expired (probe 38).
        if let type = request.headers[.contentType],
           type.split(separator: ";").first?.trimmingCharacters(in: .whitespaces).lowercased() != "application/x-www-form-urlencoded" {
            throw TenantScopeError.invalidInput("dashboard forms are sent as application/x-www-form-urlencoded")
        }
        let body = try await RequestBody.collect(request, limit: maximumBodyBytes)
        // Refused rather than repaired: bytes that are not UTF-8 would be saved as U+FFFD in a view's name.
        guard let text = String(validating: body, as: UTF8.self) else { throw TenantScopeError.invalidInput("the form is not UTF-8") }
        // A form field naming a tenant is refused, as a query parameter is (TenantParameterGuard): the tenant is the session's.
        for (name, _) in try QueryParameters.pairs(text) where ReportRequest.tenantParameterNames.contains(name.lowercased()) {
            throw TenantScopeError.invalidInput("the tenant comes from your session; the form field '\(name)' is not accepted")
        }
        let form: DashboardForm
        do {
            form = try URLEncodedFormDecoder().decode(DashboardForm.self, from: text)
        } catch {
            throw TenantScopeError.invalidInput("the form could not be read")
        }
        guard form.form_token == sessions.formToken(for: session) else {
            throw TenantScopeError.forbidden("the form has expired; reload the dashboard and try again")
        }
        for text in [form.name, form.course].compactMap({ $0 }) where text.utf8.contains(0) {
            throw TenantScopeError.invalidInput("form fields may not contain NUL characters")
        }
        return form
    }

    /// The page's filters the form carried (`days`, `course`), checked as in a query string.
    func filters() throws(TenantScopeError) -> DashboardFilters {
        try DashboardFilters(query: [("days", days), ("course", course)].compactMap { name, value in value.map { (name, $0) } })
    }
}
