import ArgumentParser
import Foundation
import TenantScopeCore
import TenantScopePostgres
import TenantScopeServer

/// Where the server's token keys come from. Without any key option, development HS256 secrets in the
/// state directory (`keys/`) are used, created on first use.
struct TokenOptions: ParsableArguments {
    @Option(help: ArgumentHelp("File holding the HS256 secret (at least 32 bytes) that signs tenant and embed tokens.", valueName: "path"))
    var tenantJWTSecretFile: String?

    @Option(help: ArgumentHelp("JWKS file of public keys (EdDSA, ES256, RS256; each with kid and alg) for tenant tokens.", valueName: "path"))
    var tenantJWKSFile: String?

    @Option(help: ArgumentHelp("File holding the HS256 secret for platform-admin tokens (must differ from the tenant secret).", valueName: "path"))
    var platformJWTSecretFile: String?

    @Option(help: ArgumentHelp("JWKS file of public keys for platform-admin tokens.", valueName: "path"))
    var platformJWKSFile: String?

    @Option(help: "Required `iss` of every token.")
    var jwtIssuer = "tenantscope"

    @Option(help: "Longest token lifetime accepted, in seconds (exp minus iat).")
    var maxTokenLifetime = 86_400

    var usesDevelopmentKeys: Bool {
        tenantJWTSecretFile == nil && tenantJWKSFile == nil && platformJWTSecretFile == nil && platformJWKSFile == nil
    }

    /// What the verifier checks a token's claims against; its revocation horizon is the credential cache's.
    var configuration: TokenVerifier.Configuration { .init(issuer: jwtIssuer, maximumLifetime: .seconds(maxTokenLifetime)) }

    func verifier(stateDirectory: String, status: any CredentialStatus) async throws -> TokenVerifier {
        var tenantKeys = TokenKeySet()
        var platformKeys = TokenKeySet()
        if usesDevelopmentKeys {
            guard let secrets = try DevelopmentKeys.load(stateDirectory: stateDirectory, create: true) else {
                throw ValidationError("no token keys configured")
            }
            tenantKeys = try await tenantKeys.adding(hs256Secret: secrets.tenant, kid: DevelopmentKeys.tenantKeyID)
            platformKeys = try await platformKeys.adding(hs256Secret: secrets.platform, kid: DevelopmentKeys.platformKeyID)
        } else {
            if let path = tenantJWTSecretFile {
                tenantKeys = try await tenantKeys.adding(hs256Secret: DevelopmentKeys.readSecret(path), kid: "tenant-hs256")
            }
            if let path = tenantJWKSFile { tenantKeys = try await tenantKeys.adding(jwksJSON: try Self.read(path)) }
            if let path = platformJWTSecretFile {
                platformKeys = try await platformKeys.adding(hs256Secret: DevelopmentKeys.readSecret(path), kid: "platform-hs256")
            }
            if let path = platformJWKSFile { platformKeys = try await platformKeys.adding(jwksJSON: try Self.read(path)) }
            if let tenantSecret = tenantJWTSecretFile, let platformSecret = platformJWTSecretFile,
               try DevelopmentKeys.readSecret(tenantSecret) == DevelopmentKeys.readSecret(platformSecret) {
                throw ValidationError("the platform secret must differ from the tenant secret, or a leaked embed secret could mint platform access")
            }
        }
        return TokenVerifier(
            configuration: configuration,
            tenantKeys: tenantKeys, platformKeys: platformKeys, status: status
        )
    }

    /// Issuers that sign with the keys the server verifies: the development keys of the state directory
    /// (never created here: new keys would not be the server's), or the HS256 secret files. A JWKS holds
    /// public keys only, so tokens for it cannot be minted here.
    func issuers(stateDirectory: String) async throws -> (tenant: TokenIssuer, platform: TokenIssuer) {
        if usesDevelopmentKeys {
            guard let secrets = try DevelopmentKeys.load(stateDirectory: stateDirectory, create: false) else {
                throw ValidationError("no development token keys in \(stateDirectory)/keys: pass the server's --state-dir, or its --tenant-jwt-secret-file and --platform-jwt-secret-file")
            }
            return (await TokenIssuer(hs256Secret: secrets.tenant, kid: DevelopmentKeys.tenantKeyID, issuer: jwtIssuer),
                    await TokenIssuer(hs256Secret: secrets.platform, kid: DevelopmentKeys.platformKeyID, issuer: jwtIssuer))
        }
        guard let tenantSecret = tenantJWTSecretFile, let platformSecret = platformJWTSecretFile else {
            throw ValidationError("minting the probe's tokens needs the HS256 secrets: pass --tenant-jwt-secret-file and --platform-jwt-secret-file (a JWKS holds public keys only)")
        }
        return (await TokenIssuer(hs256Secret: try DevelopmentKeys.readSecret(tenantSecret), kid: "tenant-hs256", issuer: jwtIssuer),
                await TokenIssuer(hs256Secret: try DevelopmentKeys.readSecret(platformSecret), kid: "platform-hs256", issuer: jwtIssuer))
    }

    static func read(_ path: String) throws -> String {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw ValidationError("cannot read \(path)")
        }
        return text
    }
}
