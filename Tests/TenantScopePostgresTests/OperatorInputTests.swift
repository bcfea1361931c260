import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// What operators type that is later printed to other operators' terminals and pages (probe 38: a tenant name or an
/// LRS key label with an escape sequence rewrote `tenant list`; any region was taken): refused, nothing created.
@Suite(.database) struct OperatorInputTests {
    @Test func namesLabelsAndRegionsWithControlCharactersOrOddTextAreRefused() async throws {
        let handle = try TestDatabase.current
        for (name, region) in [("\u{1B}[31mRed\u{1B}[0m", "default"), ("Two\nlines", "default"), ("Tab\there", "default"),
                               ("Line\u{2028}separator", "default"), ("Mars", "mars!!"), ("Long", String(repeating: "r", count: 65))] {
            let slug = TwoTenants.uniqueSlug("input")
            await #expect(throws: TenantScopeError.self, "\(name.debugDescription) in \(region)") {
                _ = try await handle.admin.tenants.create(slug: TenantSlug(slug), name: name, region: region, logger: TestDatabase.logger)
            }
            #expect(try await handle.database.tenants.find(slug: TenantSlug(slug), logger: TestDatabase.logger) == nil, "nothing was created")
        }
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("input")), name: "Café Ünïcode 東京",
                                                           region: "eu-west_1", logger: TestDatabase.logger)
        for label in ["\u{1B}]0;owned\u{7}", "two\nlines", String(repeating: "l", count: 201)] {
            await #expect(throws: TenantScopeError.self, "\(label.debugDescription)") {
                _ = try await handle.admin.lrsKeys.create(tenant: tenant.id, label: label, logger: TestDatabase.logger)
            }
        }
        _ = try await handle.admin.lrsKeys.create(tenant: tenant.id, label: "Moodle — prod", logger: TestDatabase.logger)
    }
}
