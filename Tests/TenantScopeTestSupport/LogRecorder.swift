import Foundation
import Logging

/// Keeps every line logged through its ``logger``, with the logger's metadata merged in, so tests can
/// assert what the server logs (and that no tenant data appears in it).
final class LogRecorder: @unchecked Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    // Guarded by `lock`: handlers log from any task.
    private let lock = NSLock()
    private var recorded: [Line] = []

    var lines: [Line] { lock.withLock { recorded } }

    /// A logger at trace level that records into this recorder.
    var logger: Logger {
        var logger = Logger(label: "tenantscope-tests") { _ in Handler(recorder: self) }
        logger.logLevel = .trace
        return logger
    }

    private struct Handler: LogHandler {
        let recorder: LogRecorder
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            let line = Line(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" })
            recorder.lock.withLock { recorder.recorded.append(line) }
        }
    }
}
