import ArgumentParser
import TenantScopeCore

/// The per-tenant limits an operator can set on a tier or a tenant, each optional: an option that is not
/// given leaves the current value. 0 on a tier removes a limit (no limit of that kind); on a tenant it drops the
/// tenant's override, so the tier's value applies again (probe 38: the help said "no limit" for both).
struct LimitOptions: ParsableArguments {
    @Option(help: ArgumentHelp("Report, SQL, MCP and dashboard requests one tenant runs at once per server process (0: no limit on a tier; on a tenant, back to its tier's value).",
                               valueName: "count"))
    var concurrency: Int?

    @Option(help: ArgumentHelp("API requests per second one tenant may make, refilling its bucket (0: no limit on a tier; on a tenant, back to its tier's value).",
                               valueName: "per-second"))
    var apiRate: Double?

    @Option(help: ArgumentHelp("API requests one tenant may make at once before the rate applies (default: 4 s of the rate).",
                               valueName: "requests"))
    var apiBurst: Int?

    @Option(help: ArgumentHelp("LRS statements, events and other LRS requests per second one tenant may send (0: no limit on a tier; on a tenant, back to its tier's value).",
                               valueName: "per-second"))
    var ingestRate: Double?

    @Option(help: ArgumentHelp("LRS statements one tenant may send at once before the rate applies (default: 4 s of the rate).",
                               valueName: "requests"))
    var ingestBurst: Int?

    var isEmpty: Bool { concurrency == nil && apiRate == nil && apiBurst == nil && ingestRate == nil && ingestBurst == nil }

    func validate() throws {
        if let concurrency, !(0...10_000).contains(concurrency) { throw ValidationError("--concurrency takes 0 to 10000, got \(concurrency)") }
        for (flag, rate) in [("--api-rate", apiRate), ("--ingest-rate", ingestRate)] {
            if let rate, !(rate.isFinite && rate >= 0 && rate <= 1_000_000) {
                throw ValidationError("\(flag) takes requests per second from 0 to 1000000, got \(rate)")
            }
        }
        for (flag, burst) in [("--api-burst", apiBurst), ("--ingest-burst", ingestBurst)] {
            if let burst, !(1...1_000_000).contains(burst) { throw ValidationError("\(flag) takes 1 to 1000000 requests, got \(burst)") }
        }
    }

    /// `current` with the given options applied.
    func applied(concurrency current: Int?) -> Int? {
        guard let concurrency else { return current }
        return concurrency == 0 ? nil : concurrency
    }

    func applied(api current: RatePolicy?) -> RatePolicy? { Self.apply(rate: apiRate, burst: apiBurst, to: current, flag: "--api-rate") }
    func applied(ingest current: RatePolicy?) -> RatePolicy? {
        Self.apply(rate: ingestRate, burst: ingestBurst, to: current, flag: "--ingest-rate")
    }

    private static func apply(rate: Double?, burst: Int?, to current: RatePolicy?, flag: String) -> RatePolicy? {
        if rate == 0 { return nil }
        guard let perSecond = rate ?? current?.perSecond else { return nil }  // a burst alone needs a rate
        // A new rate without a burst gets 4 s of itself; a burst alone keeps the current rate.
        let fourSeconds = min(1_000_000, max(1, Int((perSecond * 4).rounded(.up))))
        return RatePolicy(perSecond: perSecond, burst: burst ?? (rate == nil ? current?.burst : nil) ?? fourSeconds)
    }

    /// A burst given for a rate that neither exists nor is given has nothing to shape.
    func checkBursts(api current: RatePolicy?, ingest currentIngest: RatePolicy?) throws {
        if apiBurst != nil, applied(api: current) == nil { throw ValidationError("--api-burst needs an API rate; add --api-rate") }
        if ingestBurst != nil, applied(ingest: currentIngest) == nil {
            throw ValidationError("--ingest-burst needs an ingest rate; add --ingest-rate")
        }
    }
}

/// "5/s, burst 20", or "none".
func describe(_ policy: RatePolicy?) -> String {
    guard let policy else { return "none" }
    let rate = policy.perSecond == policy.perSecond.rounded() ? String(Int(policy.perSecond)) : String(policy.perSecond)
    return "\(rate)/s burst \(policy.burst)"
}

func describe(_ count: Int?) -> String { count.map(String.init) ?? "none" }
