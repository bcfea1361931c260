import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import TenantScopeCore

/// xAPI 1.0.3's Alternate Request Syntax (Communication 1.3): a client that cannot send some methods or
/// headers (a browser form, a locked-down proxy) POSTs to `/xAPI/...?method=PUT` with a form body. The
/// form's `Authorization`, `X-Experience-API-Version`, `Content-Type`, `Content-Length`, `If-Match` and
/// `If-None-Match` become headers, `content` the body, and every other field a query parameter.
///
/// ``AlternateRequestSyntaxResponder`` rewrites the request before anything reads it — routing, the
/// version check, authentication, the tenant-parameter guard — so the rewritten request meets exactly
/// the rules of the ordinary one, and nothing is trusted that an ordinary request could not also send.
enum AlternateRequestSyntax {
    static let methods: [String: HTTPRequest.Method] = ["GET": .get, "HEAD": .head, "PUT": .put, "POST": .post, "DELETE": .delete]
    static let headerFields: [String: HTTPField.Name] = [
        "authorization": .authorization, "x-experience-api-version": XAPIRoutes.versionHeader, "content-type": .contentType,
        "content-length": .contentLength, "if-match": .ifMatch, "if-none-match": .ifNoneMatch,
    ]

    /// The ordinary request an alternate-syntax request stands for; nil for any other request.
    static func rewrite(_ request: Request, maximumBodyBytes: Int) async throws -> Request? {
        guard request.uri.path.hasPrefix("/xAPI/"), let query = request.uri.query, !query.isEmpty else { return nil }
        let parameters = try QueryParameters.pairs(query)
        guard let intended = parameters.first(where: { $0.0 == "method" })?.1 else { return nil }
        guard request.method == .post else {
            throw TenantScopeError.invalidInput("the alternate request syntax (?method=) must be sent as a POST")
        }
        guard parameters.count == 1 else {
            throw TenantScopeError.invalidInput("with the alternate request syntax the query holds only 'method'; send the rest as form fields")
        }
        guard let method = methods[intended.uppercased()] else {
            throw TenantScopeError.invalidInput("the alternate request syntax's method must be GET, HEAD, PUT, POST or DELETE")
        }
        guard request.headers[.contentType]?.lowercased().hasPrefix("application/x-www-form-urlencoded") == true else {
            throw TenantScopeError.invalidInput("the alternate request syntax needs an application/x-www-form-urlencoded body")
        }
        // A form body is percent-encoded ASCII; bytes that are not UTF-8 are refused, not repaired into the fields.
        guard let formText = String(validating: try await RequestBody.collect(request, limit: maximumBodyBytes), as: UTF8.self) else {
            throw TenantScopeError.invalidInput("the alternate request syntax's form body is not UTF-8")
        }
        let form = try QueryParameters.pairs(formText)

        // xAPI 2.0 removed the syntax: a 2.0 request (by header or form field) may not use it.
        let version = form.last(where: { $0.0.lowercased() == "x-experience-api-version" })?.1 ?? request.headers[XAPIRoutes.versionHeader]
        if version?.hasPrefix("2.") == true {
            throw TenantScopeError.invalidInput("xAPI 2.0 has no alternate request syntax; send the request itself")
        }
        var headers = request.headers
        headers[.contentType] = nil
        headers[.contentLength] = nil
        var content: String?
        var fields: [(String, String)] = []
        for (name, value) in form {
            if let header = headerFields[name.lowercased()] {
                headers[header] = value
            } else if name == "content" {
                content = value
            } else {
                fields.append((name, value))
            }
        }
        if let content {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            headers[.contentLength] = String(content.utf8.count)
        }
        var path = request.uri.path
        if !fields.isEmpty {
            path += "?" + fields.map { QueryParameters.encode($0.0) + "=" + QueryParameters.encode($0.1) }.joined(separator: "&")
        }
        let head = HTTPRequest(method: method, scheme: request.head.scheme, authority: request.head.authority, path: path, headerFields: headers)
        return Request(head: head, body: .init(buffer: ByteBuffer(string: content ?? "")))
    }

}
