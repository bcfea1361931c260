import Foundation
import TenantScopeCore

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
        if !fm.fileExists(atPath: tenantPath) || !fm.fileExists(atPath: platformPath) {
            guard create else { return nil }
            do {
                try fm.createDirectory(atPath: directory, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw .environment("cannot create \(directory)")
            }
            for path in [tenantPath, platformPath] where !fm.fileExists(atPath: path) {
                // O_EXCL: of two commands creating the keys at once, one writes each key and both use it.
                let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
                guard fd >= 0 else {
                    if errno == EEXIST { continue }
                    throw .environment("cannot write \(path)")
                }
                var generator = SystemRandomNumberGenerator()
                let secret = Array((Hex.encode((0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }) + "\n").utf8)
                let written = secret.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                close(fd)
                guard written == secret.count else { throw .environment("cannot write \(path)") }
            }
        }
        return Secrets(tenant: try readSecret(tenantPath), platform: try readSecret(platformPath))
    }

    /// A secret file's bytes, without the trailing newline.
    public static func readSecret(_ path: String) throws(TenantScopeError) -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .environment("cannot read the secret file \(path)")
        }
        return Array(text.trimmingCharacters(in: .whitespacesAndNewlines).utf8)
    }
}
