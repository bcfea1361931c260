import AsyncHTTPClient
import Foundation
import NIOCore
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// moto's S3-compatible server (PyPI `moto[server]`, installed into `.venv/` by
/// `scripts/ensure-venv.sh`) on a free loopback port, one per test, stopped by ``stop()`` or, should
/// the test process die, by a watchdog.
final class MotoServer: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The package's root, three levels above this file.
    static let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static var binary: String { packageRoot.appendingPathComponent(".venv/bin/moto_server").path }
    static var python: String { packageRoot.appendingPathComponent(".venv/bin/python").path }

    let port: Int
    let logPath: String
    private let process: ChildProcess

    var endpoint: String { "http://127.0.0.1:\(port)" }
    var log: String { (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "" }

    private init(port: Int, logPath: String, process: ChildProcess) {
        self.port = port
        self.logPath = logPath
        self.process = process
    }

    /// Starts moto and waits (at most a minute) until it answers as moto. Fails, never skips, when moto is not
    /// installed: the S3 store would otherwise go untested without anyone noticing.
    ///
    /// A free port can be taken by another process (a cluster or a server another suite starts at the same
    /// moment) before moto binds it; then moto exits and a fresh port is tried. "Answers as moto" is checked
    /// with a request, not by the port being in use, which the other process would satisfy.
    static func start() async throws -> MotoServer {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw Failure(description: "\(binary) is missing: run scripts/ensure-venv.sh (scripts/run-tests.sh runs it before swift test) "
                + "to install moto[server] into .venv")
        }
        let directory = try TestPostgres.makeTemporaryDirectory("moto")
        var lastLog = ""
        for attempt in 1...5 {
            let logPath = directory + "/moto-\(attempt).log"
            guard let port = FreePort.find() else { throw Failure(description: "no free port on 127.0.0.1") }
            let process = try ChildProcess.start(binary, ["-H", "127.0.0.1", "-p", String(port)],
                                                 environment: ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("AWS_") && !$0.key.hasPrefix("MOTO_") },
                                                 outputPath: logPath)
            Watchdog.killWhenThisProcessExits(process.pid)
            let server = MotoServer(port: port, logPath: logPath, process: process)
            let deadline = ContinuousClock.now + .seconds(60)
            while ContinuousClock.now < deadline, process.exitStatus == nil {
                if FreePort.isInUse(port), await server.answersAsMoto() {
                    if process.exitStatus == nil { return server }
                }
                try await Task.sleep(for: .milliseconds(100))
            }
            lastLog = server.log
            guard let status = process.exitStatus else {
                await server.stop()
                throw Failure(description: "moto_server did not answer on \(port) within 60 s:\n\(lastLog)")
            }
            guard lastLog.contains("in use") else { throw Failure(description: "moto_server exited (\(status)) before listening:\n\(lastLog)") }
        }
        throw Failure(description: "moto_server found each of five free ports taken before it could bind one:\n\(lastLog)")
    }

    /// Whether the listener on ``port`` is moto: its S3 bucket listing answers.
    private func answersAsMoto() async -> Bool {
        guard let response = try? await HTTPClient.shared.execute(HTTPClientRequest(url: endpoint + "/"), timeout: .seconds(2)),
              let body = try? await response.body.collect(upTo: 1 << 20) else { return false }
        return String(buffer: body).contains("ListAllMyBucketsResult")
    }

    /// SIGTERM, then SIGKILL if it is still there after five seconds.
    func stop() async {
        process.send(SIGTERM)
        if await process.waitForExit(within: .seconds(5)) == nil {
            process.send(SIGKILL)
            _ = await process.waitForExit(within: .seconds(10))
        }
    }

    // MARK: - Checked signatures

    /// Makes moto check every later request's SigV4 signature (it does so with botocore's signer), and
    /// returns the only credentials it then accepts: an IAM user's access key allowed `s3:*`.
    ///
    /// By default moto accepts any credentials and checks no signature; `/moto-api/reset-auth` with 0
    /// turns the checks on from the next request. Presigned URLs are not checked either way, and
    /// while the checks are on moto cannot serve them at all (it expects an `Authorization` header).
    func enforceSignatures() async throws -> AWSSignatureV4.Credentials {
        _ = try await iam(["Action": "CreateUser", "UserName": "tenantscope"])
        let policy = #"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:*","Resource":"*"}]}"#
        _ = try await iam(["Action": "PutUserPolicy", "UserName": "tenantscope", "PolicyName": "exports", "PolicyDocument": policy])
        let answer = try await iam(["Action": "CreateAccessKey", "UserName": "tenantscope"])
        let leaves = try S3XML.leaves(of: Array(answer.utf8))
        guard let id = leaves.first(where: { $0.path.last == "AccessKeyId" })?.text,
              let secret = leaves.first(where: { $0.path.last == "SecretAccessKey" })?.text
        else { throw Failure(description: "moto's CreateAccessKey answer has no key: \(answer)") }
        try await post("/moto-api/reset-auth", body: "0", headers: [])
        return AWSSignatureV4.Credentials(accessKeyID: id, secretAccessKey: secret)
    }

    /// An IAM query call, signed for service `iam` (moto routes a request by its credential scope).
    private func iam(_ parameters: [String: String]) async throws -> String {
        let body = (parameters.merging(["Version": "2010-05-08"]) { $1 })
            .map { "\(AWSSignatureV4.uriEncode($0.key, encodeSlash: true))=\(AWSSignatureV4.uriEncode($0.value, encodeSlash: true))" }
            .joined(separator: "&")
        let signer = AWSSignatureV4(credentials: .init(accessKeyID: "AKIDBOOTSTRAP", secretAccessKey: "bootstrap"), region: "us-east-1", service: "iam")
        let request = AWSSignatureV4.Request(method: "POST", scheme: "http", host: "127.0.0.1:\(port)", path: "/",
                                             headers: [(name: "Content-Type", value: "application/x-www-form-urlencoded; charset=utf-8")])
        let signed = signer.sign(request, payloadHash: AWSSignatureV4.hexSHA256(Data(body.utf8)), date: Date())
        return try await post("/", body: body, headers: signed.headers)
    }

    @discardableResult
    private func post(_ path: String, body: String, headers: [(name: String, value: String)]) async throws -> String {
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.body = .bytes(ByteBuffer(string: body))
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        let text = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 200 else { throw Failure(description: "moto answered \(response.status.code) to \(path): \(text)") }
        return text
    }
}
