import AsyncHTTPClient
import Foundation
import NIOCore
import TenantScopeCore

/// Saves a finished export that an object store serves behind a presigned link (`tenantscope export download`).
///
/// AsyncHTTPClient rather than URLSession, whose download on Linux has neither a working timeout nor a way to stop it
/// (see ``IsolationHTTPClient``). The body is streamed to a file beside the target and renamed onto it once complete:
/// an export can be far larger than memory, and a failed download leaves no partial file under the target's name.
/// There is no deadline for the whole transfer, which depends on the file's size; a store that sends nothing for
/// `idleTimeout` ends it.
public enum ExportFileDownload {
    /// Downloads `url` to `target`; reports the bytes received so far to `progress` at most once a second and once at the end.
    /// Returns the file's size.
    @discardableResult
    public static func save(
        _ url: URL, to target: URL, idleTimeout: Duration = .seconds(60),
        progress: @Sendable (Int64) -> Void = { _ in }
    ) async throws -> Int64 {
        let configuration = HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: TimeAmount(idleTimeout)),
            decompression: .disabled)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        do {
            let size = try await save(url, to: target, with: client, progress: progress)
            try await client.shutdown()
            return size
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// Copies a finished export the local store holds to `target`, through a file beside it as a download does.
    public static func copy(_ file: URL, to target: URL) throws {
        let partial = partialFile(beside: target)
        do {
            try FileManager.default.copyItem(at: file, to: partial)
            // On disk before it takes the target's name, as a download's file is.
            let handle = try FileHandle(forWritingTo: partial)
            defer { try? handle.close() }
            try handle.synchronize()
            try replace(target, with: partial)
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }

    /// A file name beside `target` for its content until complete.
    private static func partialFile(beside target: URL) -> URL {
        target.deletingLastPathComponent().appendingPathComponent(".\(target.lastPathComponent).\(UUID().uuidString.prefix(8)).partial")
    }

    /// Renames `partial` onto `target` in one step (POSIX `rename`): an existing file at `target` stays whole until then,
    /// and is never missing in between.
    private static func replace(_ target: URL, with partial: URL) throws {
        let (from, to) = (partial.path, target.path)
        guard rename(from, to) == 0 else {
            let reason = String(cString: strerror(errno))
            throw TenantScopeError.environment("cannot write \(to): \(reason)")
        }
    }

    private static func save(_ url: URL, to target: URL, with client: HTTPClient, progress: @Sendable (Int64) -> Void) async throws -> Int64 {
        let response: HTTPClientResponse
        do {
            response = try await client.execute(HTTPClientRequest(url: url.absoluteString), deadline: .distantFuture)
        } catch {
            throw TenantScopeError.environment("the object store could not be reached: \(error)")
        }
        guard response.status == .ok else {
            throw TenantScopeError.environment("the object store refused the download (HTTP \(response.status.code))")
        }
        let partial = partialFile(beside: target)
        guard FileManager.default.createFile(atPath: partial.path, contents: nil) else {
            throw TenantScopeError.invalidInput("cannot write \(partial.path)")
        }
        do {
            let handle = try FileHandle(forWritingTo: partial)
            defer { try? handle.close() }
            var received: Int64 = 0
            var reported = ContinuousClock.now
            do {
                for try await chunk in response.body {
                    try handle.write(contentsOf: chunk.readableBytesView)
                    received += Int64(chunk.readableBytes)
                    if ContinuousClock.now - reported >= .seconds(1) {
                        progress(received)
                        reported = .now
                    }
                }
            } catch let error as HTTPClientError {
                throw TenantScopeError.environment("the download stopped after \(received) bytes: \(error)")
            }
            try handle.synchronize()
            progress(received)
            try replace(target, with: partial)
            return received
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
    }
}
