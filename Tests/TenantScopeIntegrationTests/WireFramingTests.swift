import Foundation
import Testing
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// What reaches the server as bytes on a real socket: a body whose framing breaks is the client's error (400), and an
/// answer's framing always matches the bytes it sends, so the next answer on the connection is read as itself.
@Suite(.database) struct WireFramingTests {
    /// Sends `request` (Python's `bytes` literal syntax) to the server on `port`, then a `GET /healthz` on the same
    /// connection unless `pipelined` is false, and prints what came back: a real client, reading by the framing. Its
    /// 120 s socket timeout is a hang detector, not a measure: a loaded test run can take seconds to answer.
    static func exchange(port: Int, _ request: String, pipelined: Bool = true, head: Bool = false) async throws -> String {
        let script = """
            import socket, sys
            s = socket.create_connection(("127.0.0.1", \(port)), timeout=120)
            s.sendall(\(request))
            f = s.makefile("rb")
            def answer(head=False):
                status = f.readline().decode().strip()
                length = None
                while True:
                    line = f.readline().decode()
                    if line in ("\\r\\n", ""): break
                    name, _, value = line.partition(":")
                    if name.lower() == "content-length": length = int(value)
                # A HEAD's answer has no body, whatever its Content-Length says.
                body = f.read(length) if length and not head else b""
                return status, body
            try:
                status, body = answer(\(head ? "True" : "False"))
                print(status); print(body.decode(errors="replace"))
                if \(pipelined ? "True" : "False"):
                    s.sendall(b"GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
                    print(answer()[0])
            except socket.timeout:
                print("TIMEOUT")
            """
        let result = try await Shell.run("/usr/bin/env", ["python3", "-c", script])
        return result.output + result.error
    }

    @Test func aMalformedChunkedBodyIsABadRequest() async throws {
        try await LRSFixture.with(testing: .live) { client, fixture in
            let port = try #require(client.port)
            let authorization = fixture.a.headers[.authorization]!
            // Each body claims a chunk size it does not keep, or one that is not hexadecimal.
            for chunks in [#"a\r\n{\"verb\":{\"id\":1}}\r\n0\r\n\r\n"#, #"zz\r\n{}\r\n0\r\n\r\n"#] {
                let request = #"b"POST /xAPI/statements HTTP/1.1\r\nHost: x\r\nAuthorization: \#(authorization)\r\nX-Experience-API-Version: 1.0.3\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n\#(chunks)""#
                let answer = try await Self.exchange(port: port, request, pipelined: false)
                #expect(answer.hasPrefix("HTTP/1.1 400") && answer.contains("not well-formed HTTP"), "\(answer)")
            }
        }
    }

    @Test func aHEADThroughTheAlternateSyntaxAnnouncesTheEmptyBodyItSends() async throws {
        try await LRSFixture.with(testing: .live) { client, fixture in
            let port = try #require(client.port)
            let form = "Authorization=" + QueryParameters.encode(fixture.a.headers[.authorization]!) + "&X-Experience-API-Version=1.0.3&limit=1"
            let request = #"b"POST /xAPI/statements?method=HEAD HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: \#(form.utf8.count)\r\n\r\n\#(form)""#
            let answer = try await Self.exchange(port: port, request).split(separator: "\n", omittingEmptySubsequences: false)
            #expect(answer.first == "HTTP/1.1 200 OK", "\(answer)")
            // The next answer on the connection is its own, not swallowed as this one's body.
            #expect(answer.count >= 3 && answer[1].isEmpty && answer[2] == "HTTP/1.1 200 OK", "\(answer)")
        }
    }

    /// HEAD runs wherever GET does (a report, its CSV, `/healthz`, a dashboard page) and answers the GET's status with
    /// no body, so the next answer on the connection is read as itself; a path no GET has is still a 404. The router
    /// matched HEAD only where a route named it (the xAPI resources): the rest were 404.
    @Test func headAnswersWhereverGetDoesWithoutABody() async throws {
        try await LRSFixture.with(testing: .live) { client, fixture in
            let port = try #require(client.port)
            let bearer = "Bearer " + (try await TestTokens.tenant(fixture.a.tenant.id))
            for (path, headers, status) in [("/healthz", "", "200 OK"),
                                            ("/api/v1/reports/active_learners", "Authorization: \(bearer)\\r\\n", "200 OK"),
                                            ("/api/v1/reports/active_learners", "Authorization: \(bearer)\\r\\nAccept: text/csv\\r\\n", "200 OK"),
                                            ("/api/v1/reports/active_learners", "", "401 Unauthorized"),
                                            ("/api/v1/no-such-route", "", "404 Not Found")] {
                let request = #"b"HEAD \#(path) HTTP/1.1\r\nHost: x\r\n\#(headers)\r\n""#
                let answer = try await Self.exchange(port: port, request, head: true).split(separator: "\n", omittingEmptySubsequences: false)
                #expect(answer.first == "HTTP/1.1 \(status)", "\(path): \(answer)")
                #expect(answer.count >= 3 && answer[1].isEmpty && answer[2] == "HTTP/1.1 200 OK", "\(path): the next answer is its own: \(answer)")
            }
        }
    }

    /// A body that stops arriving does not hold its request (and the tenant's slot, taken before the body is read) for
    /// as long as the client keeps the connection: the connection is closed once it has been idle for the idle timeout.
    @Test func aStalledBodyIsCutOffAtTheIdleTimeout() async throws {
        try await LRSFixture.with(testing: .live, idleTimeout: .seconds(1)) { client, fixture in
            let port = try #require(client.port)
            let script = """
                import socket, time
                s = socket.create_connection(("127.0.0.1", \(port)), timeout=120)
                s.sendall(b"POST /xAPI/statements HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: \(fixture.a.headers[.authorization]!)\\r\\n"
                          b"X-Experience-API-Version: 1.0.3\\r\\nContent-Type: application/json\\r\\nTransfer-Encoding: chunked\\r\\n\\r\\n"
                          b"1\\r\\n[\\r\\n")
                started = time.monotonic()
                try:
                    data = s.recv(1000)
                    print("CLOSED" if data == b"" else "ANSWERED " + data.decode(errors="replace").splitlines()[0], round(time.monotonic() - started))
                except socket.timeout:
                    print("STALLED")
                """
            let result = try await Shell.run("/usr/bin/env", ["python3", "-c", script])
            // Closed (or answered) before the client's own 120 s, a hang detector: nothing holds the request open for good.
            #expect(result.output.hasPrefix("CLOSED") || result.output.hasPrefix("ANSWERED"), "\(result.output) \(result.error)")
        }
    }

    /// `serve --idle-timeout` sets it, within 1 to 3600 s; out of range is refused before a database is touched.
    @Test func theIdleTimeoutOptionRefusesWhatIsOutOfRange() async throws {
        for value in ["0", "0.5", "3601"] {
            let result = try await TenantScopeBinary.run(["serve", "--idle-timeout", value, "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
            #expect(result.status != 0 && result.output.contains("--idle-timeout takes seconds between 1 and 3600"), "\(value): \(result.output)")
        }
        let accepted = try await TenantScopeBinary.run(["serve", "--idle-timeout", "600", "--database-url", "postgresql://nobody@127.0.0.1:1/none"])
        #expect(accepted.status != 0 && accepted.output.contains("database") && !accepted.output.contains("--idle-timeout"), "\(accepted.output)")
    }
}
