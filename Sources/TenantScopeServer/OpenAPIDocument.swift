/// The OpenAPI 3.1 description of the HTTP API, served at `/openapi.yaml` (docs/api.md explains it in prose).
enum OpenAPIDocument {
    static let yaml = """
        openapi: 3.1.0
        info:
          title: TenantScope
          version: 0.1.0
          description: |
            Multi-tenant learning analytics. Tenant reports run for the tenant named in a verified tenant token;
            platform reports run across tenants for platform admins only and are audited. No request parameter
            or header may name a tenant: `tenant`, `tenant_id`, `org` (and similar) are refused with 400.
        servers:
          - url: /
        components:
          securitySchemes:
            tenantToken:
              type: http
              scheme: bearer
              bearerFormat: JWT
              description: "HS256/EdDSA/ES256/RS256 JWT with sub, exp, aud, iss, tenant_id (UUID) and role (viewer|admin). See docs/tokens.md."
            platformToken:
              type: http
              scheme: bearer
              bearerFormat: JWT
              description: "JWT signed with a platform key, role platform_admin. See docs/tokens.md."
          parameters:
            reportName:
              name: name
              in: path
              required: true
              schema: {type: string, pattern: "^[a-z0-9_]+$"}
          schemas:
            Error:
              type: object
              required: [error, status]
              properties:
                error: {type: string, description: Short reason; never contains another tenant's data.}
                status: {type: integer}
            Column:
              type: object
              required: [name, type, scope, title]
              properties:
                name: {type: string}
                type: {type: string, enum: [text, integer, number, date]}
                scope: {type: string, enum: [dimension, per_tenant, cross_tenant]}
                title: {type: string}
            ReportResult:
              type: object
              required: [report, title, scope, parameters, columns, rows]
              properties:
                report: {type: string}
                title: {type: string}
                scope:
                  type: object
                  required: [kind]
                  properties:
                    kind: {type: string, enum: [tenant, platform]}
                    tenant_id: {type: string, format: uuid}
                    operator: {type: string}
                parameters:
                  type: object
                  additionalProperties: {type: string}
                columns:
                  type: array
                  items: {$ref: "#/components/schemas/Column"}
                rows:
                  type: array
                  items:
                    type: array
                    items: {type: [string, number, "null"]}
            ReportList:
              type: object
              required: [reports]
              properties:
                reports:
                  type: array
                  items:
                    type: object
                    required: [name, title, summary, parameters, columns]
                    properties:
                      name: {type: string}
                      title: {type: string}
                      summary: {type: string}
                      parameters:
                        type: array
                        items:
                          type: object
                          required: [name, type, help]
                          properties:
                            name: {type: string}
                            type: {type: string, enum: [integer, date, choice, text]}
                            minimum: {type: integer}
                            maximum: {type: integer}
                            default: {type: string}
                            options: {type: array, items: {type: string}}
                            help: {type: string}
                      columns:
                        type: array
                        items: {$ref: "#/components/schemas/Column"}
          responses:
            BadRequest:
              description: Unknown, malformed or out-of-range parameter, or an attempt to name a tenant.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            Unauthorized:
              description: Missing, malformed, expired, wrongly signed, unsigned, wrong audience/issuer, unknown kid or revoked token.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            Forbidden:
              description: The token is valid but for the other surface (the attempt is audited).
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            NotFound:
              description: No such report on this surface.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
        paths:
          /healthz:
            get:
              summary: The process is up.
              responses:
                "200": {description: OK}
          /readyz:
            get:
              summary: The database is reachable and migrated to this build's schema version.
              responses:
                "200": {description: Ready}
                "503": {description: Not ready}
          /openapi.yaml:
            get:
              summary: This document.
              responses:
                "200": {description: OK}
          /api/v1/reports:
            get:
              summary: The reports a tenant token may run.
              security: [{tenantToken: []}]
              responses:
                "200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/ReportList"}}}}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
          /api/v1/reports/{name}:
            get:
              summary: Run a report for the token's tenant. Parameters are the report's own (see the list); Accept text/csv gives CSV.
              security: [{tenantToken: []}]
              parameters:
                - $ref: "#/components/parameters/reportName"
              responses:
                "200":
                  description: OK
                  content:
                    application/json: {schema: {$ref: "#/components/schemas/ReportResult"}}
                    text/csv: {schema: {type: string}}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NotFound"}
          /api/v1/platform/reports:
            get:
              summary: The cross-tenant reports (platform admins only).
              security: [{platformToken: []}]
              responses:
                "200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/ReportList"}}}}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
          /api/v1/platform/reports/{name}:
            get:
              summary: Run a cross-tenant report; every run is written to the audit log with the operator's identity.
              security: [{platformToken: []}]
              parameters:
                - $ref: "#/components/parameters/reportName"
              responses:
                "200":
                  description: OK
                  content:
                    application/json: {schema: {$ref: "#/components/schemas/ReportResult"}}
                    text/csv: {schema: {type: string}}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NotFound"}
        """
}
