import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// Saved views stay in their tenant; shared links are signed, expiring, revocable, and always open the
/// creating tenant's view — never the viewer's tenant, never a tenant named in the link.
@Suite(.database) struct SavedViewTests {
    typealias Page = DashboardHTTPTests

    static func post(_ client: any TestClientProtocol, _ uri: String, cookie: String, form: [(String, String)]) async throws -> (HTTPResponse.Status, String, HTTPFields) {
        var headers = HTTPFields()
        headers[.cookie] = cookie
        headers[.contentType] = "application/x-www-form-urlencoded"
        let body = form.map { "\($0.0)=\($0.1.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")" }.joined(separator: "&")
        return try await client.execute(uri: uri, method: .post, headers: headers, body: ByteBuffer(string: body)) { response in
            (response.status, String(buffer: response.body), response.headers)
        }
    }

    static func formToken(_ page: String) -> String {
        guard let range = page.range(of: "name=\"form_token\" value=\"") else { return "" }
        return String(page[range.upperBound...].prefix { $0 != "\"" })
    }

    @Test func viewsAndLinksBelongToTheirTenantAndLinksOpenTheCreatorsView() async throws {
        try await Page().withApp { client, fixture, handle in
            let (adminA, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id, role: .admin))
            let (viewerA, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id, role: .viewer))
            let (adminB, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.b.tenant.id, role: .admin))
            let pageA = try await Page.page(client, "/dashboards/learning", cookie: adminA).1
            let tokenA = Self.formToken(pageA)
            #expect(!tokenA.isEmpty)

            // Saving needs an admin and the session's form token.
            let form = [("name", "Last week"), ("days", "7"), ("course", ""), ("form_token", tokenA)]
            #expect(try await Self.post(client, "/dashboards/learning/views", cookie: adminA, form: form.dropLast() + [("form_token", "forged")]).0 == .forbidden)
            let viewerToken = Self.formToken(try await Page.page(client, "/dashboards/learning", cookie: viewerA).1)
            #expect(try await Self.post(client, "/dashboards/learning/views", cookie: viewerA, form: form.dropLast() + [("form_token", viewerToken)]).0 == .forbidden)
            let saved = try await Self.post(client, "/dashboards/learning/views", cookie: adminA, form: form)
            #expect(saved.0 == .seeOther && saved.2[.location] == "/dashboards/learning?days=7")
            #expect(try await Self.post(client, "/dashboards/learning/views", cookie: adminA, form: form).0 == .conflict)

            // Tenant A sees its view; tenant B does not.
            #expect(try await Page.page(client, "/dashboards/learning", cookie: adminA).1.contains(">Last week</a>"))
            let pageB = try await Page.page(client, "/dashboards/learning", cookie: adminB).1
            #expect(!pageB.contains("Last week") && !pageB.contains(fixture.a.canary))
            let viewA = try #require(try await handle.database.savedViews.views(in: fixture.a.tenant.id.testScope, logger: TestDatabase.logger).first { $0.name == "Last week" })

            // B cannot share or revoke A's things by id.
            let tokenB = Self.formToken(pageB)
            #expect(try await Self.post(client, "/dashboards/learning/views/\(viewA.id)/share", cookie: adminB, form: [("form_token", tokenB)]).0 == .notFound)

            // A shares; anyone opening the link sees A's view, including a signed-in B.
            let shared = try await Self.post(client, "/dashboards/learning/views/\(viewA.id)/share", cookie: adminA, form: [("form_token", tokenA)])
            #expect(shared.0 == .ok)
            let path = try #require(shared.1.range(of: "value=\"/shared/").map { String(shared.1[shared.1.index($0.upperBound, offsetBy: -8)...].prefix { $0 != "\"" }) })
            for cookie in [nil, adminB] as [String?] {
                let opened = try await Page.page(client, path, cookie: cookie)
                #expect(opened.0 == .ok)
                #expect(opened.1.contains("Shared view “Last week”") && opened.1.contains("cohort-\(fixture.a.canary)"))
                #expect(!opened.1.contains(fixture.b.canary) && !opened.1.contains(fixture.a.tenant.id.description))
            }
            // A tenant added to the link is refused like on every route; a tampered token opens nothing else.
            let named = try await Page.page(client, path + "?tenant_id=\(fixture.b.tenant.id)", cookie: nil)
            #expect(named.0 == .badRequest && !named.1.contains(fixture.b.canary) && !named.1.contains(fixture.a.canary))
            #expect(try await Page.page(client, String(path.dropLast()) + (path.hasSuffix("0") ? "1" : "0"), cookie: nil).0 == .notFound)

            // Revoking: B cannot, A can; the link stops working.
            let link = try #require(try await handle.database.savedViews.links(in: fixture.a.tenant.id.testScope, logger: TestDatabase.logger).first { $0.viewName == "Last week" })
            #expect(try await Self.post(client, "/dashboards/links/\(link.id)/revoke", cookie: adminB, form: [("form_token", tokenB)]).0 == .notFound)
            #expect(try await Page.page(client, path, cookie: nil).0 == .ok)
            #expect(try await Self.post(client, "/dashboards/links/\(link.id)/revoke", cookie: adminA, form: [("form_token", tokenA)]).0 == .seeOther)
            #expect(try await Page.page(client, path, cookie: nil).0 == .notFound)

            let audit = try await handle.admin.auditTrail.tail(limit: 500, logger: TestDatabase.logger)
            #expect(audit.contains { $0.entry.action == "shared_link_created" && $0.entry.scopeTenant == fixture.a.tenant.id })
            #expect(audit.contains { $0.entry.action == "shared_link_revoked" && $0.entry.scopeTenant == fixture.a.tenant.id })
        }
    }

    /// A view's name and course are counted as saved_views' CHECKs count them (`length`: code points), so
    /// one over the limit is a 400 naming the field, not a constraint violation: "e" + U+0301 is one
    /// Character but two code points.
    @Test func nameAndCourseLimitsCountCodePoints() async throws {
        try await Page().withApp { client, fixture, handle in
            let (admin, _) = try await Page.embed(client, "learning", token: try await TestTokens.tenant(fixture.a.tenant.id, role: .admin))
            let token = Self.formToken(try await Page.page(client, "/dashboards/learning", cookie: admin).1)
            func save(_ name: String, course: String) async throws -> (HTTPResponse.Status, String, HTTPFields) {
                try await Self.post(client, "/dashboards/learning/views", cookie: admin,
                                    form: [("name", name), ("days", "7"), ("course", course), ("form_token", token)])
            }
            let overName = try await save(String(repeating: "e\u{301}", count: 60), course: "")
            #expect(overName.0 == .badRequest && overName.1.contains("view name"), "\(overName.1)")
            let overCourse = try await save("long course", course: String(repeating: "e\u{301}", count: 300))
            #expect(overCourse.0 == .badRequest && overCourse.1.contains("course"), "\(overCourse.1)")
            // The tenant's views (the other tests of the suite save theirs beside these) hold neither.
            func views() async throws -> [SavedViewStore.SavedView] {
                try await handle.database.savedViews.views(in: fixture.a.tenant.id.testScope, logger: TestDatabase.logger)
                    .filter { $0.name.hasPrefix("e\u{301}") || $0.name == "long course" }
            }
            #expect(try await views().isEmpty)
            // At the limits exactly, both are saved as sent.
            let name = String(repeating: "e\u{301}", count: 50)
            let course = String(repeating: "e\u{301}", count: 250)
            #expect(try await save(name, course: course).0 == .seeOther)
            let saved = try await views()
            #expect(saved.map(\.name) == [name] && saved.map(\.course) == [course])

            // A name whose bytes are not UTF-8 is refused, not saved with U+FFFD in their place.
            var headers = HTTPFields()
            headers[.cookie] = admin
            headers[.contentType] = "application/x-www-form-urlencoded"
            var raw = ByteBuffer(string: "days=7&course=&form_token=\(token)&name=e%CC%81")
            raw.writeBytes([0xFF])
            let notUTF8 = try await client.execute(uri: "/dashboards/learning/views", method: .post, headers: headers, body: raw) { response in
                (response.status, String(buffer: response.body))
            }
            #expect(notUTF8.0 == .badRequest && notUTF8.1.contains("UTF-8"), "\(notUTF8.1)")
            // A valid form in another encoding is told so (probe 38: it was 403 "the form has expired").
            headers[.contentType] = "multipart/form-data; boundary=b"
            let multipart = "--b\r\nContent-Disposition: form-data; name=\"form_token\"\r\n\r\n\(token)\r\n--b\r\n"
                + "Content-Disposition: form-data; name=\"name\"\r\n\r\nmultipart\r\n--b--\r\n"
            let encoded = try await client.execute(uri: "/dashboards/learning/views", method: .post, headers: headers,
                                                   body: ByteBuffer(string: multipart)) { response in (response.status, String(buffer: response.body)) }
            #expect(encoded.0 == .badRequest && encoded.1.contains("application/x-www-form-urlencoded"), "\(encoded.1)")
            #expect(try await views().map(\.name) == [name], "nothing more was saved")
        }
    }

    @Test func anExpiredLinkTokenOpensNothing() throws {
        let signer = try SharedLinkSigner(keyHex: String(repeating: "ab", count: 32))
        let link = UUID()
        let token = signer.token(link: link, expires: Date().addingTimeInterval(60))
        #expect(signer.link(fromToken: token) == link)
        #expect(signer.link(fromToken: token, now: Date().addingTimeInterval(61)) == nil)
        #expect(try SharedLinkSigner(keyHex: String(repeating: "cd", count: 32)).link(fromToken: token) == nil)
    }

    /// One link has one token: other spellings of the same id, expiry or MAC do not verify.
    @Test func aLinkTokenVerifiesOnlyInTheSpellingItWasIssuedIn() throws {
        let signer = try SharedLinkSigner(keyHex: String(repeating: "ab", count: 32))
        let link = UUID()
        let token = signer.token(link: link, expires: Date().addingTimeInterval(60))
        let parts = token.split(separator: ".").map(String.init)
        #expect(signer.link(fromToken: token) == link)
        for variant in [
            [parts[0].uppercased(), parts[1], parts[2]], [parts[0], "+" + parts[1], parts[2]], [parts[0], "0" + parts[1], parts[2]],
            [parts[0], parts[1], parts[2].uppercased()],
        ] {
            #expect(signer.link(fromToken: variant.joined(separator: ".")) == nil, "\(variant)")
        }
    }
}
