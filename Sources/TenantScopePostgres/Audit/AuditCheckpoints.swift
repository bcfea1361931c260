import Crypto
import Foundation
import Logging
import TenantScopeCore

/// Signed checkpoints of the audit chain's head, kept outside the database.
///
/// The hash chain shows an edited row, but someone who owns the table (or restores a doctored backup)
/// can rewrite the whole chain from the edit on, or cut its tail off, and the chain still verifies. So
/// after appends the server writes the head it saw — sequence number and hash — as a JSON line signed
/// with a key the database never holds (`keys/audit-checkpoint.secret` in the state directory) to an
/// append-only file, and logs it. `tenantscope audit verify` then checks that every checkpointed row is
/// still in the database with the same hash: a rewrite or a truncation behind a checkpoint is found.
///
/// Appends only mark the checkpoint dirty; ``flush(_:logger:)`` (every second in `serve`, at the end of a
/// command) writes at most one line per call, so a burst of appends costs one file write.
public actor AuditCheckpoints {
    /// A chain head: the newest row.
    public struct Head: Sendable, Hashable {
        public var seq: Int
        public var hash: String

        public init(seq: Int, hash: String) {
            self.seq = seq
            self.hash = hash
        }
    }

    /// One verified line of the checkpoint file.
    public struct Checkpoint: Sendable, Hashable {
        public var head: Head
        public var at: String
    }

    public nonisolated let path: String
    private nonisolated let key: SymmetricKey
    private var dirty = true
    private var lastWritten: Head?

    public init(path: String, key: [UInt8]) throws(TenantScopeError) {
        guard key.count >= 32 else { throw .environment("the audit checkpoint key must be at least 32 bytes") }
        self.path = path
        self.key = SymmetricKey(data: key)
    }

    /// The checkpoints of a state directory: `audit/checkpoints.jsonl`, signed with
    /// `keys/audit-checkpoint.secret` (created on first use, mode 0600).
    public static func inStateDirectory(_ directory: String) throws(TenantScopeError) -> AuditCheckpoints {
        let keyPath = directory + "/keys/audit-checkpoint.secret"
        let fm = FileManager.default
        do {
            // The state directory itself keeps default permissions: the embedded cluster's OS user must reach
            // into it. Only the two folders below are private.
            try fm.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try fm.createDirectory(atPath: directory + "/keys", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            try fm.createDirectory(atPath: directory + "/audit", withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw .environment("cannot create \(directory)/keys or \(directory)/audit")
        }
        guard let key = Hex.decode(try SecretFile.hexSecret(at: keyPath)) else {
            throw .environment("the audit checkpoint key \(keyPath) is not hex")
        }
        return try AuditCheckpoints(path: directory + "/audit/checkpoints.jsonl", key: key)
    }

    /// Marks the head as changed; the next ``flush(_:logger:)`` writes it.
    public func noteAppend() {
        dirty = true
    }

    /// Writes the current head, if it changed since the last line written by this process.
    public func flush(_ audit: AuditLog, logger: Logger) async throws {
        guard dirty else { return }
        dirty = false
        let head: Head?
        do {
            head = try await audit.head(logger: logger)
        } catch {
            dirty = true
            throw error
        }
        guard let head, lastWritten != head else { return }
        let at = ISO8601Timestamp.format(Date())
        let line = JSONValue.object([
            "seq": .number(String(head.seq)), "hash": .string(head.hash), "at": .string(at), "mac": .string(mac(head, at: at)),
        ]).jsonText + "\n"
        try append(line)
        lastWritten = head
        logger.info("Audit checkpoint", metadata: ["audit.seq": "\(head.seq)", "audit.hash": "\(head.hash)", "audit.mac": "\(mac(head, at: at))"])
    }

    /// Every line of the file, each checked against its MAC. A line that fails is an error naming it:
    /// the file itself was tampered with.
    public nonisolated func read() throws(TenantScopeError) -> [Checkpoint] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        var checkpoints: [Checkpoint] = []
        for (number, line) in data.split(separator: UInt8(ascii: "\n")).enumerated() {
            guard let object = (try? JSONParser.parse(line))?.objectValue,
                  let seq = object["seq"]?.numberValue.map({ Int($0) }), let hash = object["hash"]?.stringValue,
                  let at = object["at"]?.stringValue, let given = object["mac"]?.stringValue,
                  given == mac(Head(seq: seq, hash: hash), at: at)
            else { throw .conflict("\(path), line \(number + 1): not a checkpoint this deployment signed") }
            checkpoints.append(Checkpoint(head: Head(seq: seq, hash: hash), at: at))
        }
        return checkpoints
    }

    private nonisolated func mac(_ head: Head, at: String) -> String {
        let payload = "\(head.seq)|\(head.hash)|\(at)"
        return Hex.encode(HMAC<SHA256>.authenticationCode(for: Data(payload.utf8), using: key))
    }

    private func append(_ line: String) throws {
        let fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0o600)
        guard fd >= 0 else { throw TenantScopeError.environment("cannot open \(path) for appending") }
        defer { close(fd) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw TenantScopeError.environment("cannot write \(path)") }
    }
}
