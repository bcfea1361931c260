import Foundation
@testable import TenantScopePostgres

/// A TCP port on 127.0.0.1 that accepts connections (the kernel completes them) and never answers: a server that
/// hangs, or a port someone else took.
public final class SilentListener: @unchecked Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    public let port: Int
    private let descriptor: Int32

    /// Listens on `port`, or on a port the kernel picks when it is 0.
    public init(port: Int = 0) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        // A port a stopped server just closed may still have connections in TIME_WAIT.
        var reuse: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &reuse, socklen_t(MemoryLayout<Int32>.size))
        guard descriptor >= 0, let bound = FreePort.bindLoopback(descriptor, port: port), listen(descriptor, 64) == 0 else {
            if descriptor >= 0 { close(descriptor) }
            throw Failure(description: "cannot listen on 127.0.0.1:\(port) (errno \(errno))")
        }
        self.descriptor = descriptor
        self.port = bound
    }

    public func stop() {
        close(descriptor)
    }
}
