import Foundation
import Testing
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// Faults injected into a real `tenantscope serve` on its embedded PostgreSQL while LRS clients ingest:
/// PostgreSQL killed or frozen, serve stopped or killed. Whatever happens, a client sees 200 (stored)
/// or 503 with Retry-After within a bound, never a 500, a 401 or a hang; every acknowledged statement
/// is stored exactly once, every other batch whole or not at all; and served reports equal a rebuild
/// from the raw statements once the roll-up service caught up.
///
/// Serialized: each test runs its own server and cluster, and faults must not overlap on 2 cores.
/// Bounds are hang detectors, never performance claims; the measured recovery times are printed as
/// `fault.recovery ...` lines (docs/operations.md records them).
@Suite(.serialized) struct FaultToleranceTests {
    /// The longest a request may take while the database misbehaves: authentication and the request's
    /// own work each use the pool once, and each use ends within the acquire timeout or its statement
    /// timeout plus the pool's 5 s grace; 10 s more for a loaded 2-core machine.
    static func requestBound(statementTimeout: Int, acquireTimeout: Int) -> Duration {
        .seconds(2 * (statementTimeout + acquireTimeout + 5) + 10)
    }

    // MARK: - PostgreSQL killed

    @Test func postgresKilledMidIngestIsRestartedAndLosesNoAcknowledgedStatement() async throws {
        let bound = Self.requestBound(statementTimeout: 5, acquireTimeout: 2)
        try await Self.withServe("faults-pg-kill", ["--statement-timeout", "5", "--acquire-timeout", "2", "--rollup-interval", "0.2"]) { serve in
            let lrs = try await Self.createTenant(on: serve)
            let probe = HealthProbe(client: ServeClient(baseURL: serve.baseURL, timeout: .seconds(30)))
            let load = IngestLoad(client: ServeClient(baseURL: serve.baseURL, timeout: bound + .seconds(5)), key: lrs.key, secret: lrs.secret)
            #expect(await load.waitForAcknowledged(5), "ingest did not start")

            let oldPostmaster = try #require(ClusterProcesses.postmaster(dataDirectory: serve.dataDirectory))
            // The outage starts when the signals are sent, not before: finding the processes takes a moment in
            // which a probe can still be answered by the cluster about to die.
            let signalled = ClusterProcesses.signalAll(dataDirectory: serve.dataDirectory, SIGKILL)
            let killedAt = ContinuousClock.now
            #expect(signalled > 1, "the postmaster and its children")

            // The supervisor notices within a second and starts the cluster again (crash recovery).
            var restartedAt: ContinuousClock.Instant?
            while restartedAt == nil, ContinuousClock.now - killedAt < .seconds(120) {
                if let pid = ClusterProcesses.postmaster(dataDirectory: serve.dataDirectory), pid != oldPostmaster { restartedAt = .now }
                try await Task.sleep(for: .milliseconds(50))
            }
            let notReady = await probe.firstReadiness(503, after: killedAt, within: .seconds(60))
            let ready = await probe.firstReadiness(200, after: notReady?.at ?? killedAt, within: .seconds(120))
            #expect(restartedAt != nil, "the supervisor did not restart PostgreSQL:\n\(serve.log)")
            // Every readiness answer asked and given while no postmaster ran says 503. (Whether any probe
            // fell wholly inside the outage depends on the machine's speed: a quick restart may leave none.)
            let whollyDown = probe.all.filter { $0.at >= killedAt && $0.at + $0.readiness.elapsed <= (restartedAt ?? .now) }
            #expect(whollyDown.allSatisfy { $0.readiness.status == 503 },
                    "/readyz said otherwise than 503 while PostgreSQL was down: \(whollyDown.map(\.readiness.status))")
            #expect(ready != nil, "/readyz did not return to 200:\n\(serve.log)")
            // Ingest works again after recovery, in the same serve process.
            #expect(await load.waitForAcknowledged(5, since: ready?.at ?? .now), "no ingest after recovery:\n\(serve.log)")
            await load.stop()
            await probe.stop()

            #expect(serve.isRunning, "serve must ride out a database crash")
            #expect(serve.log.contains("Embedded PostgreSQL restarted"))
            let batches = await load.ledger.batches
            let wrong = batches.map(\.exchange).filter { !Self.isAnswer($0) }
            #expect(wrong.isEmpty, "only 200 or 503 with Retry-After: \(wrong.prefix(5))\(Self.failedRequests(in: serve))")
            let slow = batches.map(\.exchange).filter { $0.elapsed > bound }
            #expect(slow.isEmpty, "requests outlived their bound: \(slow.prefix(5))")
            let unhealthy = probe.all.map(\.health).filter { $0.status != 200 }
            #expect(unhealthy.isEmpty, "/healthz must not depend on the database: \(unhealthy.prefix(5))")
            let violations = await load.ledger.violations(stored: try await Self.storedCounts(on: serve))
            #expect(violations.isEmpty, "\(violations)")

            let firstAck = Self.firstAcknowledgement(in: batches, after: killedAt)
            print("fault.recovery scenario=postgres-sigkill supervisor_restart_s=\(Self.seconds(restartedAt.map { $0 - killedAt }))"
                  + " readyz_503_s=\(Self.seconds(notReady.map { $0.at - killedAt })) readyz_200_s=\(Self.seconds(ready.map { $0.at - killedAt }))"
                  + " first_ack_s=\(Self.seconds(firstAck)) answers: \(await load.ledger.summary())")

            try await Self.expectServedReportsEqualRebuild(on: serve, tenant: lrs.slug)
        }
    }

    /// A server process that outlives its postmaster (one waiting for good on a lock a killed process held; stopped
    /// here, to the same effect) keeps PostgreSQL from starting while it is attached to the old shared memory. Serve's
    /// supervisor kills what the dead postmaster left in the data directory and starts the cluster again.
    @Test func aServerProcessLeftByADeadPostmasterDoesNotKeepTheClusterDown() async throws {
        try await Self.withServe("faults-pg-orphan", ["--statement-timeout", "5", "--acquire-timeout", "2", "--rollup-interval", "0.2"]) { serve in
            let lrs = try await Self.createTenant(on: serve)
            let client = ServeClient(baseURL: serve.baseURL, timeout: .seconds(60))
            let warm = await client.postStatements(Self.batch(), key: lrs.key, secret: lrs.secret)
            try #require(warm.status == 200, "\(warm)")

            let postmaster = try #require(ClusterProcesses.postmaster(dataDirectory: serve.dataDirectory))
            kill(postmaster, SIGSTOP)
            let orphan = try #require(ClusterProcesses.clientBackends(of: postmaster).first, "serve holds connections after a batch")
            kill(orphan, SIGSTOP)
            for child in ClusterProcesses.children(of: postmaster) where child != orphan { kill(child, SIGKILL) }
            kill(postmaster, SIGKILL)
            defer { if ClusterProcesses.isRunning(orphan) { kill(orphan, SIGKILL) } }

            let killedAt = ContinuousClock.now
            var restarted: pid_t?
            while restarted == nil, ContinuousClock.now - killedAt < .seconds(60) {
                if let pid = ClusterProcesses.postmaster(dataDirectory: serve.dataDirectory), pid != postmaster { restarted = pid }
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(restarted != nil, "the cluster did not start again:\n\(serve.log)")
            #expect(!ClusterProcesses.isRunning(orphan), "the process the dead postmaster left runs on")
            #expect(serve.log.contains("Killing server processes a dead postmaster left behind"), "\(serve.log)")
            var after = await client.postStatements(Self.batch(), key: lrs.key, secret: lrs.secret)
            for _ in 0..<100 where after.status != 200 {
                try await Task.sleep(for: .milliseconds(200))
                after = await client.postStatements(Self.batch(), key: lrs.key, secret: lrs.secret)
            }
            #expect(after.status == 200, "\(after)\(Self.failedRequests(in: serve))")
        }
    }

    // MARK: - PostgreSQL stopped

    @Test func postgresStoppedAnswers503WithinTheBoundAndRecoversAfterSIGCONT() async throws {
        let bound = Self.requestBound(statementTimeout: 2, acquireTimeout: 2)
        // Without the report cache: it may answer a repeated report for up to a second into the outage
        // (decision 33), and this scenario checks what the database path answers while PostgreSQL is frozen.
        try await Self.withServe("faults-pg-stop", ["--statement-timeout", "2", "--acquire-timeout", "2", "--rollup-interval", "0.2",
                                                    "--report-cache-mb", "0"]) { serve in
            let lrs = try await Self.createTenant(on: serve)
            let token = try await Self.token(for: lrs.slug, on: serve)
            let client = ServeClient(baseURL: serve.baseURL, timeout: bound + .seconds(5))
            let report = "/api/v1/reports/active_learners?days=7"
            let warm = await client.postStatements(Self.batch(), key: lrs.key, secret: lrs.secret)
            #expect(warm.status == 200, "\(warm)")
            // The server's credential cache learns of a new tenant within about a second (its refresh
            // interval); until then its tokens are refused as for an unknown tenant.
            var warmReport = await client.get(report, bearer: token)
            for _ in 0..<100 where warmReport.status != 200 {
                try await Task.sleep(for: .milliseconds(100))
                warmReport = await client.get(report, bearer: token)
            }
            try #require(warmReport.status == 200, "\(warmReport)")

            let probe = HealthProbe(client: ServeClient(baseURL: serve.baseURL, timeout: .seconds(30)))
            let postmaster = try #require(ClusterProcesses.postmaster(dataDirectory: serve.dataDirectory))
            let stoppedAt = ContinuousClock.now
            #expect(ClusterProcesses.signalAll(dataDirectory: serve.dataDirectory, SIGSTOP) > 1)
            // Ingest and reports while frozen, for longer than the credential cache may serve a stale
            // snapshot (10 s), so bearer checks meet the outage too.
            let load = IngestLoad(client: client, key: lrs.key, secret: lrs.secret, clients: 2)
            let reports = Task {
                var answers: [ServeClient.Exchange] = []
                while ContinuousClock.now - stoppedAt < .seconds(12) || answers.count < 2 {
                    answers.append(await client.get(report, bearer: token))
                }
                return answers
            }
            let reportAnswers = await reports.value
            await load.stop()
            let frozen = await load.ledger.batches

            let resumedAt = ContinuousClock.now
            ClusterProcesses.signalAll(dataDirectory: serve.dataDirectory, SIGCONT)
            var firstIngest: Duration?
            var firstReport: Duration?
            var recoveryLedger: [ServeClient.Exchange] = []
            while firstIngest == nil || firstReport == nil, ContinuousClock.now - resumedAt < .seconds(120) {
                if firstIngest == nil {
                    let answer = await client.postStatements(Self.batch(), key: lrs.key, secret: lrs.secret)
                    recoveryLedger.append(answer)
                    if answer.status == 200 { firstIngest = .now - resumedAt }
                }
                if firstReport == nil {
                    let answer = await client.get(report, bearer: token)
                    recoveryLedger.append(answer)
                    if answer.status == 200 { firstReport = .now - resumedAt }
                }
                if firstIngest == nil || firstReport == nil { try await Task.sleep(for: .milliseconds(100)) }
            }
            await probe.stop()

            #expect(!frozen.isEmpty && reportAnswers.count >= 2)
            let duringStop = frozen.map(\.exchange) + reportAnswers
            let wrong = duringStop.filter { !Self.isRetryLater($0) }
            #expect(wrong.isEmpty, "while PostgreSQL was stopped, only 503 with Retry-After: \(wrong.prefix(5))\(Self.failedRequests(in: serve))")
            let slow = duringStop.filter { $0.elapsed > bound }
            #expect(slow.isEmpty, "requests outlived their bound: \(slow.prefix(5))")
            let wrongAfter = recoveryLedger.filter { !Self.isAnswer($0) }
            #expect(wrongAfter.isEmpty, "after SIGCONT: \(wrongAfter.prefix(5))\(Self.failedRequests(in: serve))")
            #expect(firstIngest != nil && firstReport != nil, "no recovery after SIGCONT:\n\(serve.log)")
            #expect(serve.isRunning)
            #expect(ClusterProcesses.postmaster(dataDirectory: serve.dataDirectory) == postmaster,
                    "a stopped postmaster is alive: the supervisor must not start a second one")
            let during = probe.all.filter { $0.at >= stoppedAt && $0.at < resumedAt }
            #expect(during.contains { $0.readiness.status == 503 }, "/readyz stayed 200 while PostgreSQL was stopped")
            let unhealthy = probe.all.map(\.health).filter { $0.status != 200 }
            #expect(unhealthy.isEmpty, "/healthz must not depend on the database: \(unhealthy.prefix(5))")
            let slowReadiness = probe.all.map(\.readiness).filter { $0.elapsed > .seconds(15) }
            #expect(slowReadiness.isEmpty, "/readyz must answer within its own 3 s timeout: \(slowReadiness.prefix(5))")
            let violations = await load.ledger.violations(stored: try await Self.storedCounts(on: serve).filter { id, _ in
                frozen.contains { $0.ids.contains(id) }
            })
            #expect(violations.isEmpty, "\(violations)")
            let slowest = (frozen.map(\.exchange) + reportAnswers).map(\.elapsed).max()
            print("fault.recovery scenario=postgres-sigstop stopped_s=\(Self.seconds(resumedAt - stoppedAt))"
                  + " slowest_503_s=\(Self.seconds(slowest)) first_ingest_200_s=\(Self.seconds(firstIngest))"
                  + " first_report_200_s=\(Self.seconds(firstReport)) answers: \(await load.ledger.summary()) reports=\(reportAnswers.count)x503")
        }
    }

    // MARK: - serve stopped or killed

    /// A second `serve` on the same state directory finds the cluster running and leaves it to the first when it stops:
    /// before, it stopped PostgreSQL under the first, whose supervisor then started it again (a new postmaster, and
    /// connection errors meanwhile). The first still stops what it started.
    @Test func aSecondServeOnTheSameStateDirectoryLeavesTheClusterToTheFirst() async throws {
        try await Self.withServe("faults-serve-two", ["--rollup-interval", "3600"]) { first in
            let postmaster = try #require(ClusterProcesses.postmaster(dataDirectory: first.dataDirectory))
            let second = try await ServeProcess.start(root: first.root, logName: "serve-second", arguments: ["--rollup-interval", "3600"])
            defer { if second.isRunning { second.send(SIGKILL) } }
            #expect(second.log.contains("PostgreSQL is already running"), "\(second.log)")
            second.send(SIGTERM)
            let exited = await second.waitForExit(within: .seconds(30))
            #expect(exited && second.terminationStatus == 0, "\(second.log)")
            // The first server's supervisor looks once a second: give it three looks.
            try await Task.sleep(for: .seconds(3))
            #expect(ClusterProcesses.postmaster(dataDirectory: first.dataDirectory) == postmaster,
                    "the second serve stopped the cluster the first started")
            #expect(!first.log.contains("Embedded PostgreSQL is not running"), "\(first.log)")
            let readiness = await ServeClient(baseURL: first.baseURL, timeout: .seconds(10)).get("/readyz")
            #expect(readiness.status == 200, "\(readiness)")

            first.send(SIGTERM)
            #expect(await first.waitForExit(within: .seconds(30)), "\(first.log)")
            #expect(ClusterProcesses.postmaster(dataDirectory: first.dataDirectory) == nil, "the first serve stops what it started")
        }
    }

    /// A `serve` killed outright leaves its cluster running; the next `serve` finds the recorded owner gone, adopts the
    /// cluster and stops it when it exits. After `db start` took the cluster over, no `serve` adopts it.
    @Test func aServeAdoptsTheClusterAKilledServeLeftButNotOneDbStartHolds() async throws {
        try await Self.withServe("faults-serve-orphan", ["--rollup-interval", "3600"]) { first in
            let postmaster = try #require(ClusterProcesses.postmaster(dataDirectory: first.dataDirectory))
            first.send(SIGKILL)
            #expect(await first.waitForExit(within: .seconds(30)))
            #expect(ClusterProcesses.postmaster(dataDirectory: first.dataDirectory) == postmaster, "a killed serve cannot stop its cluster")

            let adopting = try await ServeProcess.start(root: first.root, logName: "serve-adopting", arguments: ["--rollup-interval", "3600"])
            defer { if adopting.isRunning { adopting.send(SIGKILL) } }
            #expect(adopting.log.contains("Adopted the embedded PostgreSQL"), "\(adopting.log)")
            // Killed in turn: the record names the adopting serve now, so the next one adopts again; `db start` then takes
            // the cluster over, and a serve after it leaves the cluster running when it exits.
            adopting.send(SIGKILL)
            #expect(await adopting.waitForExit(within: .seconds(30)))
            let dbStart = try await TenantScopeBinary.run(["db", "start", "--state-dir", first.stateDirectory])
            try #require(dbStart.status == 0, "\(dbStart.output)")
            let third = try await ServeProcess.start(root: first.root, logName: "serve-after-db-start", arguments: ["--rollup-interval", "3600"])
            defer { if third.isRunning { third.send(SIGKILL) } }
            #expect(!third.log.contains("Adopted"), "\(third.log)")
            third.send(SIGTERM)
            #expect(await third.waitForExit(within: .seconds(30)), "\(third.log)")
            #expect(ClusterProcesses.postmaster(dataDirectory: first.dataDirectory) == postmaster, "db start's cluster is left running")

            let db = try await TenantScopeBinary.run(["db", "stop", "--state-dir", first.stateDirectory])
            try #require(db.status == 0, "\(db.output)")
            let fourth = try await ServeProcess.start(root: first.root, logName: "serve-fourth", arguments: ["--rollup-interval", "3600"])
            defer { if fourth.isRunning { fourth.send(SIGKILL) } }
            fourth.send(SIGKILL)
            #expect(await fourth.waitForExit(within: .seconds(30)))
            let fifth = try await ServeProcess.start(root: first.root, logName: "serve-fifth", arguments: ["--rollup-interval", "3600"])
            defer { if fifth.isRunning { fifth.send(SIGKILL) } }
            #expect(fifth.log.contains("Adopted the embedded PostgreSQL"), "\(fifth.log)")
            fifth.send(SIGTERM)
            #expect(await fifth.waitForExit(within: .seconds(30)), "\(fifth.log)")
            #expect(ClusterProcesses.postmaster(dataDirectory: first.dataDirectory) == nil, "the adopting serve stops the orphan it adopted")
        }
    }

    @Test func sigtermMidIngestExitsCleanlyAndKeepsEveryAcknowledgedStatement() async throws {
        let arguments = ["--statement-timeout", "5", "--acquire-timeout", "2", "--rollup-interval", "0.2"]
        let bound = Self.requestBound(statementTimeout: 5, acquireTimeout: 2)
        try await Self.withServe("faults-serve-term", arguments) { serve in
            let lrs = try await Self.createTenant(on: serve)
            let load = IngestLoad(client: ServeClient(baseURL: serve.baseURL, timeout: bound + .seconds(5)), key: lrs.key, secret: lrs.secret)
            #expect(await load.waitForAcknowledged(5), "ingest did not start")

            let termAt = ContinuousClock.now
            serve.send(SIGTERM)
            let exited = await serve.waitForExit(within: .seconds(30))
            let shutdown = ContinuousClock.now - termAt
            await load.stop()
            #expect(exited, "serve did not exit within 30 s of SIGTERM:\n\(serve.log)")
            guard exited else { return }
            #expect(serve.terminationStatus == 0, "\(serve.log)")
            #expect(ClusterProcesses.postmaster(dataDirectory: serve.dataDirectory) == nil, "serve stops the embedded cluster")

            // Requests that met the closing server may fail in transport (nothing acknowledged).
            let answers = await load.ledger.batches.map(\.exchange)
            let wrong = answers.filter { !Self.isAnswer($0, transportErrorAllowed: true) }
            #expect(wrong.isEmpty, "\(wrong.prefix(5))\(Self.failedRequests(in: serve))")
            let slow = answers.filter { $0.elapsed > bound }
            #expect(slow.isEmpty, "requests outlived their bound: \(slow.prefix(5))")
            let restarted = try await ServeProcess.start(root: serve.root, logName: "serve-restarted", arguments: arguments)
            try await Self.finally(restarted) {
                let violations = await load.ledger.violations(stored: try await Self.storedCounts(on: restarted))
                #expect(violations.isEmpty, "\(violations)")
                print("fault.recovery scenario=serve-sigterm shutdown_s=\(Self.seconds(shutdown)) answers: \(await load.ledger.summary())")
                try await Self.expectServedReportsEqualRebuild(on: restarted, tenant: lrs.slug)
            }
        }
    }

    @Test func sigkillMidIngestLosesNothingAcknowledgedAndStoresNoPartialBatch() async throws {
        let arguments = ["--statement-timeout", "5", "--acquire-timeout", "2", "--rollup-interval", "0.2"]
        let bound = Self.requestBound(statementTimeout: 5, acquireTimeout: 2)
        try await Self.withServe("faults-serve-kill", arguments) { serve in
            let lrs = try await Self.createTenant(on: serve)
            let load = IngestLoad(client: ServeClient(baseURL: serve.baseURL, timeout: bound + .seconds(5)), key: lrs.key, secret: lrs.secret)
            #expect(await load.waitForAcknowledged(8), "ingest did not start")
            serve.send(SIGKILL)
            #expect(await serve.waitForExit(within: .seconds(10)))
            await load.stop()
            let wrong = await load.ledger.batches.map(\.exchange).filter { !Self.isAnswer($0, transportErrorAllowed: true) }
            #expect(wrong.isEmpty, "\(wrong.prefix(5))\(Self.failedRequests(in: serve))")

            // The killed server's cluster keeps running; the new serve adopts it.
            let restartAt = ContinuousClock.now
            let restarted = try await ServeProcess.start(root: serve.root, logName: "serve-restarted", arguments: arguments)
            let listening = ContinuousClock.now - restartAt
            try await Self.finally(restarted) {
                let violations = await load.ledger.violations(stored: try await Self.storedCounts(on: restarted))
                #expect(violations.isEmpty, "\(violations)")
                let client = ServeClient(baseURL: restarted.baseURL, timeout: bound)
                let after = await client.postStatements(Self.batch(), key: lrs.key, secret: lrs.secret)
                #expect(after.status == 200, "\(after)")
                print("fault.recovery scenario=serve-sigkill restart_listening_s=\(Self.seconds(listening)) answers: \(await load.ledger.summary())")
                try await Self.expectServedReportsEqualRebuild(on: restarted, tenant: lrs.slug)
            }
        }
    }

    // MARK: - Helpers

    /// 503 with `Retry-After`: the only refusal a client may get for an outage.
    static func isRetryLater(_ answer: ServeClient.Exchange) -> Bool {
        answer.status == 503 && answer.retryAfter != nil
    }

    /// 200 (stored) or 503 with `Retry-After`; a transport error only where serve itself went away.
    static func isAnswer(_ answer: ServeClient.Exchange, transportErrorAllowed: Bool = false) -> Bool {
        if answer.status == nil { return transportErrorAllowed }
        return answer.status == 200 || isRetryLater(answer)
    }

    /// The lines of serve's log that say why a request failed (a 500 names the error there, never in its body), for an
    /// expectation's message: what a failure in CI can be diagnosed by.
    static func failedRequests(in serve: ServeProcess) -> String {
        let lines = serve.log.split(separator: "\n").filter { $0.contains("Request failed") }
        return lines.isEmpty ? "" : "\nserve logged:\n" + lines.prefix(10).joined(separator: "\n")
    }

    struct LRSTenant {
        let slug: String
        let key: String
        let secret: String
    }

    /// Runs `body` with a fresh serve; serve and its cluster are stopped afterwards, whatever happened.
    static func withServe(_ name: String, _ arguments: [String], _ body: (ServeProcess) async throws -> Void) async throws {
        let root = try ServeProcess.makeRoot(name)
        let serve = try await ServeProcess.start(root: root, arguments: arguments)
        try await finally(serve) { try await body(serve) }
    }

    static func finally(_ serve: ServeProcess, _ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch {
            await serve.shutDown()
            throw error
        }
        await serve.shutDown()
    }

    /// A tenant and an LRS key, made with the command line on serve's own state directory.
    static func createTenant(on serve: ServeProcess) async throws -> LRSTenant {
        let slug = "faults-" + UUID().uuidString.prefix(8).lowercased()
        let created = try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "Fault tenant", "--state-dir", serve.stateDirectory])
        try #require(created.status == 0, "\(created.output)")
        let key = try await TenantScopeBinary.run(["lrs-key", "create", "--tenant", slug, "--label", "faults", "--state-dir", serve.stateDirectory])
        try #require(key.status == 0, "\(key.output)")
        let value = { (prefix: String) in
            key.output.split(separator: "\n").first { $0.hasPrefix(prefix) }.map { String($0.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces) } ?? ""
        }
        return LRSTenant(slug: slug, key: value("key:"), secret: value("secret:"))
    }

    /// A viewer token signed with serve's development keys.
    static func token(for slug: String, on serve: ServeProcess) async throws -> String {
        let result = try await TenantScopeBinary.run(["token", "--tenant", slug, "--state-dir", serve.stateDirectory])
        try #require(result.status == 0, "\(result.output)")
        return try #require(result.output.split(separator: "\n").last { $0.split(separator: ".").count == 3 }.map(String.init))
    }

    static func batch(count: Int = 5) -> String {
        "[" + RandomStatements.make(seed: .random(in: 0...UInt64.max), count: count, start: Date().addingTimeInterval(-5 * 86_400), spanDays: 5)
            .joined(separator: ",") + "]"
    }

    /// Rows per statement id, read as the cluster's superuser (past row-level security and serve's code).
    static func storedCounts(on serve: ServeProcess) async throws -> [String: Int] {
        try await OneShotConnection.with(try await serve.superuserEndpoint(), logger: TestDatabase.logger) { connection in
            var counts: [String: Int] = [:]
            for try await (id, count) in try await connection.query("SELECT id::text, count(*)::int FROM app.statements GROUP BY id",
                                                                    logger: TestDatabase.logger).decode((String, Int).self) {
                counts[id] = count
            }
            return counts
        }
    }

    /// Served reports (roll-ups) equal the same reports computed from the raw statements (`--cold`),
    /// once the roll-up service has caught up: polled, bounded at 200 s (a stuck pass ends within 2 minutes), so a roll-up that lost or
    /// double-counted statements in a fault never converges and fails here.
    static func expectServedReportsEqualRebuild(on serve: ServeProcess, tenant: String) async throws {
        let rows = { (output: String) in output.split(separator: "\n").filter { $0.contains("\t") }.map(String.init) }
        for (report, parameters) in [("active_learners", ["--param", "days=7"]), ("completion_rate_by_course", [])] {
            let command = ["report", "run", report, "--tenant", tenant, "--state-dir", serve.stateDirectory] + parameters
            var served: [String] = []
            var cold: [String] = []
            let start = ContinuousClock.now
            repeat {
                let servedRun = try await TenantScopeBinary.run(command)
                let coldRun = try await TenantScopeBinary.run(command + ["--cold"])
                try #require(servedRun.status == 0 && coldRun.status == 0, "\(servedRun.output)\n\(coldRun.output)")
                served = rows(servedRun.output)
                cold = rows(coldRun.output)
                if served == cold { break }
                try await Task.sleep(for: .milliseconds(500))
            } while ContinuousClock.now - start < .seconds(200)
            #expect(served == cold, "\(report): served\n\(served.joined(separator: "\n"))\ncold\n\(cold.joined(separator: "\n"))")
            #expect(cold.count > 1, "\(report) has rows beyond its header")
        }
    }

    /// From `fault` to the end of the first acknowledged request sent after it.
    static func firstAcknowledgement(in batches: [IngestLedger.Batch], after fault: ContinuousClock.Instant) -> Duration? {
        batches.filter { $0.acknowledged && $0.sentAt >= fault }.map { $0.sentAt + $0.exchange.elapsed - fault }.min()
    }

    static func seconds(_ duration: Duration?) -> String {
        guard let duration else { return "none" }
        return String(format: "%.2f", Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18)
    }
}
