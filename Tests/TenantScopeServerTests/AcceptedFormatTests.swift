import Testing
@testable import TenantScopeServer

/// `Accept` between JSON and CSV, with weights (probe 38: `text/csv;q=0` got CSV, and `application/json;q=0.1,
/// text/csv` JSON).
struct AcceptedFormatTests {
    @Test(arguments: [
        (nil, false), ("", false), ("application/json", false), ("text/csv", true), ("TEXT/CSV; charset=utf-8", true),
        ("text/csv;q=0", false), ("text/csv;q=0, application/json", false), ("application/json;q=0.1, text/csv", true),
        ("text/csv, application/json", true), ("application/json, text/csv", false), ("*/*", false),
        ("text/html,application/xhtml+xml,*/*;q=0.8", false), ("text/*", true), ("text/*;q=0.5, application/json;q=0.4", true),
        ("text/csv;q=0.3, */*;q=0.9", false), ("text/csv;q=0.9, */*;q=0.3", true), ("application/json;q=0, text/csv;q=0", false),
        ("garbage", false), ("text/csv;q=abc", true),
    ] as [(String?, Bool)])
    func csvWhenItWeighsMoreOrAsMuchAndComesFirst(accept: String?, csv: Bool) {
        #expect(AcceptedFormat.prefersCSV(accept) == csv, "\(accept ?? "nil")")
    }
}
