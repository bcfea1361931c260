import Logging
import ServiceLifecycle

/// Writes the audit chain's head to the checkpoint file every `interval` when it changed, and once more
/// on graceful shutdown, so the last appends of a stopping server are checkpointed too.
public struct AuditCheckpointService: Service {
    public static let defaultInterval: Duration = .seconds(1)

    private let checkpoints: AuditCheckpoints
    private let audit: AuditLog
    private let interval: Duration
    private let logger: Logger

    public init(checkpoints: AuditCheckpoints, audit: AuditLog, interval: Duration = defaultInterval, logger: Logger) {
        self.checkpoints = checkpoints
        self.audit = audit
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.flush()
                try? await Task.sleep(for: self.interval)
            }
        }
        await flush()
    }

    private func flush() async {
        do {
            try await checkpoints.flush(audit, logger: logger)
        } catch {
            logger.warning("Audit checkpoint not written; retrying", metadata: ["error.type": "\(type(of: error))"])
        }
    }
}
