import Testing
@testable import TenantScopeCore

@Suite struct TenantSlugTests {
    @Test(arguments: ["acme", "globex-2", "a1", "initech"])
    func acceptsValidSlugs(_ slug: String) throws {
        #expect(try TenantSlug(slug).rawValue == slug)
    }

    @Test(arguments: ["", "a", "Acme", "1acme", "acme-", "ac me", "acme_corp", "ä-corp", String(repeating: "a", count: 64)])
    func refusesInvalidSlugs(_ slug: String) {
        #expect(throws: TenantScopeError.self) { try TenantSlug(slug) }
    }
}
