import CoreMetrics
import Dispatch
import HTTPTypes
import Hummingbird
import Logging

/// One log line (info) and the request metrics for every request, measured once: the matched route
/// template (never the raw path, which holds tenant slugs and query values), method, status and duration
/// until the response body was written. The line carries the request's `hb.request.id` from its logger.
///
/// Outermost middleware, so errors reach it already turned into responses by ``ErrorMiddleware``; one
/// that still escapes is counted with the status it becomes (``ErrorMiddleware/status(of:)``).
///
/// Hummingbird's own `MetricsMiddleware` records the same things, but only through the global
/// `MetricsSystem` and with dotted label names Prometheus does not accept; this one takes the server's
/// factory (see ``ServerMetrics``).
struct RequestTelemetryMiddleware<Context: RequestContext>: RouterMiddleware {
    static var durationLabel: String { "tenantscope_http_request_duration_seconds" }

    let factory: any MetricsFactory

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = DispatchTime.now().uptimeNanoseconds
        do {
            var response = try await next(request, context)
            let body = response.body
            let status = response.status
            response.body = ResponseBody(contentLength: body.contentLength) { writer in
                do {
                    try await body.write(writer)
                } catch {
                    record(request, context: context, status: status, start: start)
                    throw error
                }
                record(request, context: context, status: status, start: start)
            }
            return response
        } catch {
            record(request, context: context, status: ErrorMiddleware<Context>.status(of: error), start: start)
            throw error
        }
    }

    private func record(_ request: Request, context: Context, status: HTTPResponse.Status, start: UInt64) {
        let nanoseconds = DispatchTime.now().uptimeNanoseconds - start
        // The template the router matched; requests that matched no route share one value.
        let route = context.endpointPath ?? "NotFound"
        let method = request.method.rawValue
        let dimensions = [("method", method), ("route", route), ("status", String(status.code))]
        CoreMetrics.Counter(label: "tenantscope_http_requests_total", dimensions: dimensions, factory: factory).increment()
        CoreMetrics.Timer(label: Self.durationLabel, dimensions: dimensions, factory: factory).recordNanoseconds(Int64(nanoseconds))
        context.logger.info("Request handled", metadata: [
            "http.method": "\(method)",
            "http.route": "\(route)",
            "http.status": "\(status.code)",
            "http.duration_ms": "\(Double(nanoseconds / 1_000) / 1_000)",
        ])
    }
}
