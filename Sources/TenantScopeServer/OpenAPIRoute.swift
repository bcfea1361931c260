import HTTPTypes
import Hummingbird

/// Serves the OpenAPI document at `/openapi.yaml`.
struct OpenAPIRoute<Context: RequestContext> {
    func register(on router: Router<Context>) {
        router.get("openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: OpenAPIDocument.yaml)))
        }
    }
}
