import Foundation
import JWTKit

/// The claims TenantScope reads from a token. `exp`, `sub`, `aud` and `iss` are required: a token
/// without them fails to decode. jwt-kit checks none of the time claims itself; ``TokenVerifier`` does.
struct TokenPayload: JWTPayload, Equatable {
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var iat: IssuedAtClaim?
    var nbf: NotBeforeClaim?
    var aud: AudienceClaim
    var iss: IssuerClaim
    var jti: IDClaim?
    /// Tenant tokens: the tenant's id (a UUID).
    var tenant_id: String?
    /// `viewer` or `admin` for tenant tokens, `platform_admin` for platform tokens.
    var role: String
    var user_attributes: [String: String]?

    func verify(using algorithm: some JWTAlgorithm) throws {
        // Deliberately empty: every claim is checked in TokenVerifier, with a reason for each refusal.
    }
}
