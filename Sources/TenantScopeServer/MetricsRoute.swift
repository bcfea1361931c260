import HTTPTypes
import Hummingbird

/// `GET /metrics`: every metric of this server in the Prometheus text format. Served only on the
/// separate metrics listener (`serve --metrics-port`, architecture decision 30), never on the API port.
struct MetricsRoute<Context: RequestContext> {
    let metrics: ServerMetrics

    func register(on router: Router<Context>) {
        router.get("metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: metrics.render())))
        }
    }
}
