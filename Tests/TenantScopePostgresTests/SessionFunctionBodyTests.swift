import Testing
@testable import TenantScopePostgres

/// Which statements a session function can hold (``SessionFunctions/canHold(_:)``): those whose text does not contain the
/// dollar-quote tag of the function's body, wherever it stands, which would end the body early.
@Suite struct SessionFunctionBodyTests {
    @Test(arguments: [
        ("", true),
        ("SELECT 1", true),
        ("SELECT ($1::text), 'é' || $tenantscope_fn || tenantscope_fn$ || $tenantscope_f$", true),
        (SessionFunctions.bodyTag, false),
        ("SELECT '\(SessionFunctions.bodyTag)'", false),
        ("SELECT 'é', ($1::text) || $\(SessionFunctions.bodyTag)", false),
        ("SELECT $tenantscope_fx$tenantscope_fn", true),
        ("SELECT $tenantscope_f$\(SessionFunctions.bodyTag)", false),
        ("SELECT 1 -- \(SessionFunctions.bodyTag)", false),
    ])
    func aTextHoldsTheBodyTagOnlyWhereItContainsIt(sql: String, holdable: Bool) {
        #expect(SessionFunctions.canHold(sql) == holdable, "\(sql)")
        #expect(SessionFunctions.canHold(sql) == !sql.contains(SessionFunctions.bodyTag), "\(sql)")
    }
}
