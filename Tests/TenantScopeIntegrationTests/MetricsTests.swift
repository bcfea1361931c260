import AsyncHTTPClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import Logging
import Prometheus
import Testing
@testable import TenantScopeCore
@testable import TenantScopePostgres
@testable import TenantScopeServer
@testable import TenantScopeTestSupport

/// `/metrics` on its own listener and the request log line, against a real server and database: each
/// server here has a registry of its own, so counts are exact while other suites run. A fresh database,
/// so the roll-up gauges see this suite's tenants only.
///
/// Requests go through the router test client, which runs the application's services (the metrics
/// listener among them) and its whole middleware chain. The live client gives each response 20 s, which a
/// debug build's request did not always get while every suite of a full run starts at once on two cores.
@Suite(.freshDatabase) struct MetricsTests {
    /// The bound port of the metrics listener, once it runs.
    actor Port {
        var value: Int?
        func set(_ port: Int) { value = port }
    }

    @Test func requestsIngestPoolAndRollupsAreCountedWithoutTenantData() async throws {
        let handle = try TestDatabase.current
        let a = try await member(handle)
        let b = try await member(handle)
        let metrics = ServerMetrics(registry: PrometheusCollectorRegistry())
        let log = LogRecorder()
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits, metrics: metrics.factory)
        let port = Port()
        let app = buildApplication(
            database: database,
            configuration: .init(port: 0, rollupInterval: nil, metricsListener: .init(port: 0)),
            tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(), logger: log.logger,
            metrics: metrics, onMetricsRunning: { await port.set($0) }
        )
        try await app.test(.router) { client in
            let ids = (0..<4).map { _ in UUID() }
            let batch = XAPIJSON.array(ids.prefix(3).map { XAPIJSON.statement(id: $0) })
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", a.headers, batch, expect: .ok)
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", a.headers, batch, expect: .ok)  // nothing new
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", a.headers, #"[{"actor":{"mbox":"mailto:x@example.com"}}]"#,
                                                expect: .badRequest)
            try await XAPIConformanceTests.send(client, .post, "/xAPI/statements", a.headers,
                                                XAPIJSON.array([XAPIJSON.statement(id: ids[0], object: "https://example.com/other")]), expect: .conflict)
            try await XAPIConformanceTests.send(client, .put, "/xAPI/statements?statementId=\(ids[3])", a.headers,
                                                XAPIJSON.statement(id: ids[3]), expect: .noContent)
            let token = try await TestTokens.tenant(a.tenant.id)
            try await XAPIConformanceTests.send(client, .get, "/api/v1/reports/completion_rate_by_course?course=\(a.tenant.slug)",
                                                [.authorization: "Bearer \(token)"], expect: .ok)
            try await XAPIConformanceTests.send(client, .get, "/no-such-route/\(b.tenant.slug)", HTTPFields(), expect: .notFound)
            try await XAPIConformanceTests.send(client, .get, "/metrics", HTTPFields(), expect: .notFound)  // not on the API port

            let text = try await scrape(port)
            // Request counts and durations, by route template, method and status.
            #expect(value(text, #"tenantscope_http_requests_total{method="POST",route="/xAPI/statements",status="200"}"#) == 2)
            #expect(value(text, #"tenantscope_http_requests_total{method="POST",route="/xAPI/statements",status="400"}"#) == 1)
            #expect(value(text, #"tenantscope_http_requests_total{method="POST",route="/xAPI/statements",status="409"}"#) == 1)
            #expect(value(text, #"tenantscope_http_requests_total{method="PUT",route="/xAPI/statements",status="204"}"#) == 1)
            #expect(value(text, #"tenantscope_http_requests_total{method="GET",route="/api/v1/reports/{name}",status="200"}"#) == 1)
            #expect(value(text, #"tenantscope_http_requests_total{method="GET",route="NotFound",status="404"}"#) == 2)
            #expect(value(text, #"tenantscope_http_request_duration_seconds_count{method="GET",route="/api/v1/reports/{name}",status="200"}"#) == 1)
            #expect(value(text, #"tenantscope_http_request_duration_seconds_bucket{method="GET",route="/api/v1/reports/{name}",status="200",le="+Inf"}"#) == 1)
            // Ingest: 3 new, the same 3 again (none new), a PUT of 1; refused: one invalid, one conflicting.
            #expect(value(text, "tenantscope_xapi_statements_ingested_total") == 4)
            #expect(value(text, "tenantscope_xapi_batch_size_count") == 3)
            #expect(value(text, "tenantscope_xapi_batch_size_sum") == 7)
            #expect(value(text, #"tenantscope_xapi_batch_size_bucket{le="2.0"}"#) == 1)
            #expect(value(text, #"tenantscope_xapi_batches_refused_total{status="400"}"#) == 1)
            #expect(value(text, #"tenantscope_xapi_batches_refused_total{status="409"}"#) == 1)
            // The pool: idle between requests (the credential cache's once-a-second reload may hold a
            // connection at the moment of a scrape: polled, bounded), and the database up.
            // Background reads (credential state, roll-up watermarks) may also be waiting for a connection
            // being opened at that moment, so both gauges are polled together.
            var pool = metrics.render()
            for _ in 0..<50 where value(pool, "tenantscope_db_pool_connections_in_use") != 0 || value(pool, "tenantscope_db_pool_waiters") != 0 {
                try await Task.sleep(for: .milliseconds(100))
                pool = metrics.render()
            }
            #expect(value(pool, "tenantscope_db_pool_connections_in_use") == 0)
            #expect(value(pool, "tenantscope_db_pool_waiters") == 0)
            #expect(value(text, "tenantscope_db_up") == 1)
            // Our own use counts; a background read may hold another at that moment (a full run saw 2), so at least 1.
            let during = try await database.pool.withConnection(logger: TestDatabase.logger) { _ in metrics.render() }
            #expect(try #require(value(during, "tenantscope_db_pool_connections_in_use")) >= 1)

            // Roll-ups: the first pass finds tenant a's queued actor and statements not yet rolled up.
            let rollups = RollupService(database: database, logger: TestDatabase.logger, metrics: metrics.factory)
            try await rollups.pass()
            let first = try await scrape(port)
            #expect(value(first, "tenantscope_rollup_passes_total") == 1)
            #expect(try #require(value(first, "tenantscope_derivation_queue_depth")) >= 1)
            #expect(try #require(value(first, "tenantscope_rollup_queue_depth")) >= 1)
            #expect(try #require(value(first, "tenantscope_rollup_lag_seconds")) > 0)
            try await rollups.pass()
            let second = try await scrape(port)
            #expect(value(second, "tenantscope_rollup_passes_total") == 2)
            #expect(value(second, "tenantscope_derivation_queue_depth") == 0)
            #expect(value(second, "tenantscope_rollup_queue_depth") == 0)
            #expect(value(second, "tenantscope_rollup_lag_seconds") == 0)
            #expect(value(second, "tenantscope_rollup_failures_total") == 0)

            // Nothing of either tenant in any metric: no slug, no id, no raw path or parameter.
            for tenantData in [a.tenant.slug.description, b.tenant.slug.description, a.tenant.id.description, b.tenant.id.description,
                               "completion_rate_by_course", "no-such-route"] {
                #expect(!second.lowercased().contains(tenantData.lowercased()), "\(tenantData) in /metrics")
            }

            // One info line per request, with its route template, status, duration and request id.
            let lines = log.lines.filter { $0.message == "Request handled" }
            #expect(lines.count == 8)
            #expect(lines.allSatisfy { $0.level == .info && $0.metadata["hb.request.id"] != nil && Double($0.metadata["http.duration_ms"] ?? "") != nil })
            let report = try #require(lines.first { $0.metadata["http.route"] == "/api/v1/reports/{name}" })
            #expect(report.metadata["http.method"] == "GET" && report.metadata["http.status"] == "200")
            #expect(lines.contains { $0.metadata["http.route"] == "/xAPI/statements" && $0.metadata["http.status"] == "409" })
            for line in lines {
                let text = "\(line.message) \(line.metadata)"
                for tenantData in [a.tenant.slug.description, b.tenant.slug.description, a.tenant.id.description] {
                    #expect(!text.contains(tenantData), "\(tenantData) logged: \(text)")
                }
            }
        }
    }

    /// A HEAD runs as its GET and is recorded as one: the telemetry records a request once its body is written, and a
    /// HEAD's body (the GET's, never sent) is still started, so it is not missing from the log and the metrics.
    @Test func aHeadIsLoggedAndCountedAsItsGet() async throws {
        let handle = try TestDatabase.current
        let a = try await member(handle)
        let metrics = ServerMetrics(registry: PrometheusCollectorRegistry())
        let log = LogRecorder()
        let database = try await Database.open(appEndpoint: handle.database.appEndpoint, logger: TestDatabase.logger, limits: TestDatabase.limits,
                                               metrics: metrics.factory)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil),
                                   tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(),
                                   logger: log.logger, metrics: metrics)
        try await app.test(.router) { client in
            let token = try await TestTokens.tenant(a.tenant.id)
            try await XAPIConformanceTests.send(client, .head, "/api/v1/reports", [.authorization: "Bearer \(token)"], expect: .ok)
        }
        #expect(value(metrics.render(), #"tenantscope_http_requests_total{method="GET",route="/api/v1/reports",status="200"}"#) == 1)
        let lines = log.lines.filter { $0.message == "Request handled" }
        #expect(lines.count == 1 && lines.first?.metadata["http.route"] == "/api/v1/reports", "\(lines)")
    }

    @Test func aDatabaseOutageIsA503InTheLogAndMetricsAndTheUpGaugeFalls() async throws {
        let handle = try TestDatabase.current
        var unreachable = handle.ownerEndpoint
        unreachable.port = try #require(FreePort.find())
        let metrics = ServerMetrics(registry: PrometheusCollectorRegistry())
        let log = LogRecorder()
        let database = try Database(appEndpoint: unreachable.with(username: Database.appRole, password: "x"),
                                    tenantEndpoint: unreachable.with(username: Database.tenantLoginRole, password: "x"),
                                    contextKeyHex: String(repeating: "ab", count: 32), linkKeyHex: String(repeating: "cd", count: 32),
                                    limits: .init(acquireTimeout: .milliseconds(500)), logger: TestDatabase.logger, metrics: metrics.factory)
        let app = buildApplication(database: database, configuration: .init(port: 0, rollupInterval: nil),
                                   tokens: try await TestTokens.verifier(for: database), catalog: try StandardReports.catalog(),
                                   logger: log.logger, metrics: metrics)
        try await app.test(.router) { client in
            let token = try await TestTokens.tenant(TenantID(UUID()))
            try await XAPIConformanceTests.send(client, .get, "/api/v1/reports/completion_rate_by_course", [.authorization: "Bearer \(token)"],
                                                expect: .serviceUnavailable)
        }
        let text = metrics.render()
        #expect(value(text, #"tenantscope_http_requests_total{method="GET",route="/api/v1/reports/{name}",status="503"}"#) == 1)
        #expect(value(text, "tenantscope_db_up") == 0)
        #expect(value(text, "tenantscope_db_pool_waiters") == 0)
        let line = try #require(log.lines.first { $0.message == "Request handled" })
        #expect(line.metadata["http.status"] == "503" && line.metadata["http.route"] == "/api/v1/reports/{name}")
    }

    // MARK: - Helpers

    func member(_ handle: TestDatabase) async throws -> LRSFixture.Member {
        let tenant = try await handle.admin.tenants.create(slug: TenantSlug(TwoTenants.uniqueSlug("metrics")), name: "Metrics tenant",
                                                           logger: TestDatabase.logger)
        return LRSFixture.Member(tenant: tenant, credential: try await handle.admin.lrsKeys.create(tenant: tenant.id, label: "tests", logger: TestDatabase.logger))
    }

    /// GET /metrics from the metrics listener, waiting (bounded) for it to be bound.
    func scrape(_ port: Port) async throws -> String {
        var bound = await port.value
        // Bounded only to stop a hung start; the listener is normally up before the first request.
        for _ in 0..<100 where bound == nil {
            try await Task.sleep(for: .milliseconds(50))
            bound = await port.value
        }
        let request = HTTPClientRequest(url: "http://127.0.0.1:\(try #require(bound))/metrics")
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
        #expect(response.status.code == 200)
        #expect(response.headers.first(name: "Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        return String(buffer: try await response.body.collect(upTo: 16 << 20))
    }

    /// The value of the sample `series` (name and labels exactly as rendered), nil when absent.
    func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").lazy.compactMap { line -> Double? in
            guard line.hasPrefix(series + " ") else { return nil }
            return Double(line.dropFirst(series.count + 1))
        }.first
    }
}
