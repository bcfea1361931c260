import Foundation
import HTTPTypes
import Hummingbird

/// A refused credential: 401 with a short, fixed reason. Never echoes token contents back.
public struct AuthenticationError: Error, Hashable, Sendable, HTTPResponseError, CustomStringConvertible {
    public let reason: String

    public init(_ reason: String) {
        self.reason = reason
    }

    public static let missing = Self("missing bearer token")
    public static let malformed = Self("malformed token")
    public static let unsigned = Self("unsigned tokens are not accepted")
    public static let unknownKey = Self("unknown key id")
    public static let keyIDRequired = Self("token must name its key (kid)")
    public static let criticalExtension = Self("token names critical header extensions this server does not support")
    public static let algorithmMismatch = Self("token algorithm does not match its key")
    public static let badSignature = Self("invalid signature")
    public static let expired = Self("token expired")
    public static let notYetValid = Self("token not yet valid")
    public static let tooLongLived = Self("token lifetime exceeds the allowed maximum")
    public static let wrongAudience = Self("wrong audience")
    public static let wrongIssuer = Self("wrong issuer")
    public static let revoked = Self("token revoked")
    public static let badClaims = Self("token claims are invalid for this surface")
    public static let unknownTenant = Self("unknown tenant")

    public var description: String { reason }
    public var status: HTTPResponse.Status { .unauthorized }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers = HTTPFields()
        headers[.wwwAuthenticate] = "Bearer error=\"invalid_token\""
        return try ErrorBody(error: reason, status: status).response(headers: headers)
    }
}
