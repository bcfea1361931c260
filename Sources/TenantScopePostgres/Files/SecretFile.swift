import Foundation
import TenantScopeCore

/// A random secret kept in a file (mode 0600), created on first use.
///
/// Several processes may ask for the same file at once (`make demo` next to a CLI command, parallel
/// tests). The secret is written in full to a private temporary file and then hard-linked into place:
/// `link(2)` is atomic and refuses an existing name, so every reader sees either no file or the whole
/// secret, and of two creators exactly one wins and both use the winner's secret. Creating the final
/// name with `O_EXCL` and writing afterwards would let a reader see it empty.
public enum SecretFile {
    /// The secret at `path` as hex text (64 characters for 32 bytes), creating it if it does not exist.
    public static func hexSecret(at path: String, bytes: Int = 32) throws(TenantScopeError) -> String {
        if let existing = try read(path) { return existing }
        var generator = SystemRandomNumberGenerator()
        let secret = Hex.encode((0..<bytes).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        let temporary = path + ".\(getpid()).\(UInt64.random(in: .min ... .max, using: &generator)).tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw .environment("cannot create \(temporary)") }
        let line = Array((secret + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        let synced = fsync(fd)
        close(fd)
        defer { unlink(temporary) }
        guard written == line.count, synced == 0 else { throw .environment("cannot write \(temporary)") }
        if link(temporary, path) != 0 && errno != EEXIST {
            throw .environment("cannot create \(path)")
        }
        guard let stored = try read(path) else { throw .environment("cannot read \(path)") }
        return stored
    }

    /// The file's text without surrounding whitespace; nil when there is no such file.
    public static func read(_ path: String) throws(TenantScopeError) -> String? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            throw .environment("cannot read the secret file \(path)")
        }
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !trimmed.isEmpty else { throw .environment("the secret file \(path) is empty") }
        return trimmed
    }
}
