import Foundation
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeTestSupport

/// The real `tenantscope` binary: serve on a fresh state directory, answer /readyz, stop with SIGTERM.
@Suite(.database) struct ServerProcessTests {
    @Test func serveStartsTheEmbeddedClusterAndStopsItOnSIGTERM() async throws {
        let serve = try await ServeProcess.start(root: try ServeProcess.makeRoot("tenantscope-serve"), arguments: ["--metrics-port", "0"])
        defer { if serve.isRunning { serve.send(SIGTERM) } }
        let base = serve.baseURL
        let output = serve.logPath
        let client = ServeClient(baseURL: base, timeout: .seconds(30))
        let ready = await client.get("/readyz")
        #expect(ready.status == 200)
        #expect(ready.body.contains("\"ready\""), "\(ready)")

        let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: serve.stateDirectory), logger: TestDatabase.logger)
        #expect(try await embedded.isRunning())

        // The running server holds no owner connection: only the server role's (architecture decision 21).
        _ = await client.get("/api/v1/reports")
        let logins = try await OneShotConnection.with(try await embedded.superuserEndpoint(), logger: TestDatabase.logger) { connection in
            var logins: [String: Int] = [:]
            for try await (user, count) in try await connection.query("""
                SELECT usename::text, count(*)::int FROM pg_stat_activity
                WHERE backend_type = 'client backend' AND usename <> 'postgres' GROUP BY 1
                """, logger: TestDatabase.logger).decode((String, Int).self) {
                logins[user] = count
            }
            return logins
        }
        #expect(logins[EmbeddedPostgres.ownerRole] == nil, "serve keeps an owner connection: \(logins)")
        #expect((logins[Database.appRole] ?? 0) > 0, "\(logins)")

        // The metrics listener: its own port, printed like the API's; the API port does not serve it.
        var metricsURL: String?
        // Bounded only to stop a hung start: both listeners start together.
        for _ in 0..<100 where metricsURL == nil {
            metricsURL = try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n")
                .first { $0.hasPrefix("Metrics at ") }.map { String($0.dropFirst("Metrics at ".count)) }
            if metricsURL == nil { try await Task.sleep(for: .milliseconds(100)) }
        }
        let text = await ServeClient(baseURL: try #require(metricsURL), timeout: .seconds(30)).get("").body
        #expect(text.contains(#"tenantscope_http_requests_total{method="GET",route="/readyz",status="200"} 1"#), "\(text)")
        #expect(text.contains("tenantscope_db_up 1"), "\(text)")
        #expect(await client.get("/metrics").status == 404)
        // One info line per request, with the route template and status as metadata.
        let serveLog = try String(contentsOfFile: output, encoding: .utf8)
        #expect(serveLog.contains("http.route=/readyz") && serveLog.contains("http.status=200") && serveLog.contains("Request handled"), "\(serveLog)")

        serve.send(SIGTERM)  // as a service manager sends; Ctrl-C's SIGINT takes the same path
        #expect(await serve.waitForExit(within: .seconds(600)))
        #expect(serve.terminationStatus == 0)
        #expect(try await !embedded.isRunning(), "the cluster stops with the server")
    }
}

/// The administrative commands, run as a person would.
@Suite(.database) struct CommandLineTests {

    @Test func serveRunsAnEmbeddedStreamingReplicaAndStopsItWithThePrimary() async throws {
        let root = try ServeProcess.makeRoot("tenantscope-replica")
        Watchdog.stopWhenThisProcessExits(dataDirectory: root + "/state/replicas/1/postgres/data")
        let serve = try await ServeProcess.start(root: root, arguments: ["--replicas", "1"])
        let embedded = EmbeddedPostgres(configuration: .init(stateDirectory: serve.stateDirectory), logger: TestDatabase.logger)
        let replica = EmbeddedReplica(primary: embedded, index: 1, logger: TestDatabase.logger)
        do {
            // The replica is a hot standby of the primary, made by pg_basebackup, and the server measures it.
            var superuser = try await embedded.superuserEndpoint()
            superuser.port = try await replica.endpoint().port
            let inRecovery = try await OneShotConnection.with(superuser, logger: TestDatabase.logger) { connection in
                try await connection.query("SELECT pg_is_in_recovery()", logger: TestDatabase.logger).collect().first?.decode(Bool.self)
            }
            #expect(inRecovery == true)
            var usable = false
            for _ in 0..<100 where !usable {
                let body = await ServeClient(baseURL: serve.baseURL, timeout: .seconds(30)).get("/readyz").body
                let replicas = XAPIJSON.object(body)["replicas"]?.arrayValue
                usable = replicas?.first?.objectValue?["usable"]?.boolValue == true
                if !usable { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(usable, "the server never found its replica usable")

            serve.send(SIGTERM)
            #expect(await serve.waitForExit(within: .seconds(60)))
            #expect(try await !replica.isRunning(), "serve left its replica running")
            #expect(try await !embedded.isRunning())
        } catch {
            await serve.shutDown()
            throw error
        }
        await serve.shutDown()
    }

    @Test func tenantsTokensAndTheAuditChainFromTheCommandLine() async throws {
        let handle = try TestDatabase.current
        let url = handle.ownerEndpoint.url
        let slug = TwoTenants.uniqueSlug("cli")
        let created = try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "CLI tenant", "--database-url", url])
        #expect(created.status == 0, "\(created.output)")
        let listed = try await TenantScopeBinary.run(["tenant", "list", "--database-url", url])
        #expect(listed.output.contains(slug) && listed.output.contains("CLI tenant"))
        let duplicate = try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "Again", "--database-url", url])
        #expect(duplicate.status != 0 && duplicate.output.contains("already exists"))
        let invalid = try await TenantScopeBinary.run(["tenant", "create", "Not A Slug", "--name", "x", "--database-url", url])
        #expect(invalid.status != 0)

        #expect(try await TenantScopeBinary.run(["audit", "verify", "--database-url", url]).status == 0)
        let tail = try await TenantScopeBinary.run(["audit", "tail", "--limit", "200", "--database-url", url])
        #expect(tail.output.contains("tenant_created") && tail.output.contains(slug))
        // A value with a line break (a report parameter as a client sent it) prints on its row's own line, escaped: it
        // cannot print a forged row of its own.
        // Other tests append to the same log meanwhile: the row is found by its own marker, among the last 200.
        let forged = "1  2026-01-01T00:00:00.000Z  platform_admin:alice-\(UUID().uuidString)  tenant=-  tenant_deleted"
        _ = try await handle.database.audit.append(.init(actor: "ann", actorKind: "tenant_user", scopeTenant: nil, action: "report_run",
                                                         report: "active_learners", parameters: ["course": "x\n" + forged + "\u{2028}"],
                                                         rowCount: 0, outcome: "ok"), logger: TestDatabase.logger)
        let escaped = try await TenantScopeBinary.run(["audit", "tail", "--limit", "200", "--database-url", url])
        #expect(escaped.status == 0 && escaped.output.contains("course=x\\u{a}" + forged + "\\u{2028}"), "\(escaped.output)")
        #expect(!escaped.output.split(separator: "\n").contains { $0.hasPrefix(forged.prefix(60)) }, "\(escaped.output)")

        #expect(try await TenantScopeBinary.run(["db", "url", "--database-url", url]).output.hasPrefix("postgresql://"))

        // Probe 38: options out of range are usage errors before anything starts, each saying what it takes.
        for (arguments, says) in [(["serve", "--port", "70000"], "--port takes"), (["serve", "--max-body-bytes", "0"], "--max-body-bytes takes"),
                                  (["serve", "--metrics-port", "65536"], "--metrics-port takes"), (["audit", "tail", "--limit", "0"], "--limit takes"),
                                  // Tokens the server would refuse are not minted.
                                  (["token", "--tenant", slug, "--subject", "lrs-key:abc"], "--subject must be"),
                                  (["token", "--tenant", slug, "--subject", String(repeating: "s", count: 201)], "--subject must be"),
                                  (["token", "--platform", "--operator", "ops\nforged"], "--operator must be")] {
            let refused = try await TenantScopeBinary.run(arguments + ["--database-url", url])
            #expect(refused.status == 64 && refused.output.contains(says), "\(arguments): \(refused.status) \(refused.output)")
        }
        // Without USER, LOGNAME or SUDO_USER (cron, systemd) an operator's rows name the OS account, not "unknown".
        let account = String(cString: getpwuid(getuid()).pointee.pw_name)
        let anonymous = TwoTenants.uniqueSlug("cron")
        let cron = try await TenantScopeBinary.run(["tenant", "create", anonymous, "--name", "Cron", "--database-url", url],
                                                   environment: ["USER": "", "LOGNAME": "", "SUDO_USER": ""])
        #expect(cron.status == 0, "\(cron.output)")
        let rows = try await TenantScopeBinary.run(["audit", "tail", "--limit", "200", "--database-url", url])
        #expect(rows.output.split(separator: "\n").contains { $0.contains("cli:\(account)") && $0.contains(anonymous) }, "\(rows.output)")
    }

    @Test func lrsKeysAreCreatedListedAndRevokedWithTheSecretShownOnce() async throws {
        let handle = try TestDatabase.current
        let url = handle.ownerEndpoint.url
        let slug = TwoTenants.uniqueSlug("key")
        #expect(try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "Key tenant", "--database-url", url]).status == 0)
        let created = try await TenantScopeBinary.run(["lrs-key", "create", "--tenant", slug, "--label", "moodle", "--database-url", url])
        #expect(created.status == 0, "\(created.output)")
        let key = created.output.split(separator: "\n").first { $0.hasPrefix("key:") }.map { String($0.dropFirst(4)).trimmingCharacters(in: .whitespaces) } ?? ""
        let secret = created.output.split(separator: "\n").first { $0.hasPrefix("secret:") }.map { String($0.dropFirst(7)).trimmingCharacters(in: .whitespaces) } ?? ""
        #expect(LRSCredentialSecret.isWellFormedKey(key) && secret.count == 64)
        #expect(try await handle.database.lrsCredentials.tenant(for: .init(key: key, secret: secret), logger: TestDatabase.logger) != nil)

        let listed = try await TenantScopeBinary.run(["lrs-key", "list", "--database-url", url])
        #expect(listed.output.contains(key) && listed.output.contains(slug) && listed.output.contains("active") && !listed.output.contains(secret))
        #expect(try await TenantScopeBinary.run(["lrs-key", "revoke", key, "--database-url", url]).status == 0)
        #expect(try await handle.database.lrsCredentials.tenant(for: .init(key: key, secret: secret), logger: TestDatabase.logger) == nil)
        #expect(try await TenantScopeBinary.run(["lrs-key", "list", "--database-url", url]).output.contains("revoked"))
        let again = try await TenantScopeBinary.run(["lrs-key", "revoke", key, "--database-url", url])
        #expect(again.status != 0 && again.output.contains("no active LRS key"))
        let unknown = try await TenantScopeBinary.run(["lrs-key", "create", "--tenant", "no-such-tenant", "--database-url", url])
        #expect(unknown.status != 0 && unknown.output.contains("no tenant"))
    }

    @Test func rollupsRebuildReportRunAndTenantDeleteFromTheCommandLine() async throws {
        let handle = try TestDatabase.current
        let url = handle.ownerEndpoint.url
        let slug = TwoTenants.uniqueSlug("ops")
        #expect(try await TenantScopeBinary.run(["tenant", "create", slug, "--name", "Ops tenant", "--database-url", url]).status == 0)
        let tenant = try #require(try await handle.database.tenants.find(slug: TenantSlug(slug), logger: TestDatabase.logger))
        let validator = StatementValidator(authority: ["homePage": "https://tenantscope.dev/lrs-keys", "name": "cli-test"])
        let statements = RandomStatements.make(seed: 7, count: 40, start: Date().addingTimeInterval(-5 * 86_400), spanDays: 5)
        _ = try await handle.database.statements.store(
            try StatementBatch.parse(Data(XAPIJSON.array(statements).utf8), validator: validator), in: tenant.id.testScope, logger: TestDatabase.logger)

        let rebuilt = try await TenantScopeBinary.run(["rollups", "rebuild", "--tenant", slug, "--database-url", url])
        #expect(rebuilt.status == 0 && rebuilt.output.contains("days recomputed"), "\(rebuilt.output)")
        let served = try await TenantScopeBinary.run(["report", "run", "active_learners", "--tenant", slug, "--param", "days=7", "--database-url", url])
        let cold = try await TenantScopeBinary.run(["report", "run", "active_learners", "--tenant", slug, "--param", "days=7", "--cold", "--database-url", url])
        #expect(served.status == 0 && served.output.contains("timing report=active_learners path=served"), "\(served.output)")
        // Result lines are tab-separated; progress and log lines are not.
        let rows = { (output: String) in output.split(separator: "\n").filter { $0.contains("\t") } }
        #expect(rows(served.output) == rows(cold.output) && rows(served.output).count == 8, "\(served.output)\n\(cold.output)")
        #expect(try await TenantScopeBinary.run(["report", "run", "active_learners", "--database-url", url]).status != 0)

        let refused = try await TenantScopeBinary.run(["tenant", "delete", slug, "--database-url", url])
        #expect(refused.status != 0 && refused.output.contains("--confirm"))
        let deleted = try await TenantScopeBinary.run(["tenant", "delete", slug, "--confirm", "--database-url", url])
        #expect(deleted.status == 0, "\(deleted.output)")
        #expect(try await handle.database.tenants.find(slug: TenantSlug(slug), logger: TestDatabase.logger) == nil)
        let tail = try await TenantScopeBinary.run(["audit", "tail", "--limit", "500", "--database-url", url])
        #expect(tail.output.contains("tenant_deleted") && tail.output.contains("rollups_rebuilt") && tail.output.contains("operator_tenant_report"))
    }
}
