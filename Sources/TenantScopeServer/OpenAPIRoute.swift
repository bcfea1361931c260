import Foundation
import HTTPTypes
import Hummingbird

/// Serves the OpenAPI document (`Resources/openapi.yaml`, docs/api.md explains it in prose) at `/openapi.yaml`.
struct OpenAPIRoute<Context: RequestContext> {
    /// The document's text, read once from the module's resources.
    static var document: String {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
              let text = try? String(contentsOf: url, encoding: .utf8)
        else { preconditionFailure("openapi.yaml is missing from the TenantScopeServer resources") }
        return text
    }

    func register(on router: Router<Context>) {
        let text = Self.document
        router.get("openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: .init(string: text)))
        }
    }
}
