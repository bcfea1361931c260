import Foundation
import TenantScopeCore
import TenantScopePostgres

/// HS256 secrets for development and demos, generated once in the state directory (`keys/`, mode 0600).
///
/// Production deployments configure their own secrets or JWKS files; these exist so `make demo` and
/// `tenantscope token` work with nothing set up.
public enum DevelopmentKeys {
    public static let tenantKeyID = "dev-tenant"
    public static let platformKeyID = "dev-platform"

    public struct Secrets: Sendable {
        public var tenant: [UInt8]
        public var platform: [UInt8]
    }

    public static func load(stateDirectory: String, create: Bool) throws(TenantScopeError) -> Secrets? {
        let directory = stateDirectory + "/keys"
        let tenantPath = directory + "/tenant-hs256.secret"
        let platformPath = directory + "/platform-hs256.secret"
        let fm = FileManager.default
        if !create && (!fm.fileExists(atPath: tenantPath) || !fm.fileExists(atPath: platformPath)) { return nil }
        do {
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .environment("cannot create \(directory)")
        }
        // The hex text itself is the HS256 secret (64 bytes), as it always was.
        return Secrets(tenant: Array(try SecretFile.hexSecret(at: tenantPath).utf8),
                       platform: Array(try SecretFile.hexSecret(at: platformPath).utf8))
    }

    /// A secret file's bytes, without the trailing newline.
    public static func readSecret(_ path: String) throws(TenantScopeError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .environment("cannot read the secret file \(path)")
        }
        return Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
    }
}
