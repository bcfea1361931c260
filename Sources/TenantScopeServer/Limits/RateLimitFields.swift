import HTTPTypes
import Hummingbird
import Synchronization
import TenantScopeCore

/// The `RateLimit-Policy` and `RateLimit` fields of the IETF HTTPAPI draft "RateLimit header fields for HTTP"
/// (structured fields, draft 09 on): the policy's quota `q` over a window `w` of seconds, and what is left,
/// `r` requests, with `t` seconds until the bucket is full again.
enum RateLimitFields {
    static let policyName = HTTPField.Name("RateLimit-Policy")!
    static let stateName = HTTPField.Name("RateLimit")!

    static func fields(_ surface: TenantLimits.Surface, policy: RatePolicy, decision: TokenBucket.Decision) -> HTTPFields {
        var fields = HTTPFields()
        fields[policyName] = "\"\(surface.rawValue)\";q=\(policy.burst);w=\(policy.windowSeconds)"
        fields[stateName] = "\"\(surface.rawValue)\";r=\(decision.remaining);t=\(WholeSeconds.roundedUp(decision.resetAfter, atLeast: 0))"
        return fields
    }
}

/// The tenant spent its rate on this surface: 429 with `Retry-After` (seconds until the next request is
/// allowed) and the rate-limit fields.
struct RateLimited: HTTPResponseError, CustomStringConvertible {
    let surface: TenantLimits.Surface
    let fields: HTTPFields
    let retryAfterSeconds: Int

    var status: HTTPResponse.Status { .tooManyRequests }
    var description: String {
        "this tenant's \(surface == .api ? "API request" : "LRS statement") rate is used up; retry after \(retryAfterSeconds) s"
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = fields
        headers[.retryAfter] = "\(retryAfterSeconds)"
        return try ErrorBody(error: description, status: .tooManyRequests).response(headers: headers)
    }
}

/// The rate-limit fields a request's answer carries, as its last charge left them: the middleware records
/// the request's own unit, and an LRS batch's per-statement charge in the handler records the bucket after
/// it, so the answer reports what is really left. One per request, held by its context. It also keeps the
/// tenant's limits as the middleware resolved them, so the batch's charge uses the same ones.
public final class RateLimitNote: Sendable {
    private let latest = Mutex<HTTPFields?>(nil)
    private let resolved = Mutex<TenantLimits?>(nil)

    public init() {}

    /// The tenant's limits the middleware applied to this request; nil before it ran (or without limits).
    var limits: TenantLimits? {
        get { resolved.withLock { $0 } }
        set { resolved.withLock { $0 = newValue } }
    }

    func record(_ fields: HTTPFields) {
        latest.withLock { $0 = fields }
    }

    var fields: HTTPFields? { latest.withLock { $0 } }
}
