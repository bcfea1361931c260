/// The OpenAPI 3.1 description of the HTTP API, served at `/openapi.yaml` (docs/api.md explains it in prose).
enum OpenAPIDocument {
    static let yaml = """
        openapi: 3.1.0
        info:
          title: TenantScope
          version: 0.1.0
          description: |
            Multi-tenant learning analytics. Tenant reports run for the tenant named in a verified tenant token;
            platform reports run across tenants for platform admins only and are audited. The xAPI 1.0.3
            statements resource (/xAPI/statements) and product events (/api/v1/events) write to the tenant of
            the credential: an LRS key (HTTP Basic) or a tenant token. No request parameter or header may name
            a tenant: `tenant`, `tenant_id`, `org` (and similar) are refused with 400. See docs/api.md.
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
            lrsKey:
              type: http
              scheme: basic
              description: "A tenant's LRS key as the user name and its secret as the password (`tenantscope lrs-key create --tenant SLUG`). Acts as an admin of that tenant. Wrong, unknown or revoked credentials get 401 with WWW-Authenticate Basic. See docs/operations.md."
          parameters:
            reportName:
              name: name
              in: path
              required: true
              schema: {type: string, pattern: "^[a-z0-9_]+$"}
            xapiVersion:
              name: X-Experience-API-Version
              in: header
              required: true
              description: "1.0, 1.0.x or 2.0.x; anything else, or no header, is 400. Every response carries the header (1.0.3 or 2.0.0)."
              schema: {type: string, example: 1.0.3}
            statementIdQuery:
              name: statementId
              in: query
              schema: {type: string, format: uuid}
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
            XAPIStatement:
              type: object
              description: "An xAPI 1.0.3 statement. Validated in full; the LRS sets stored and authority and fills in id, timestamp and version when absent."
              required: [actor, verb, object]
              properties:
                id: {type: string, format: uuid}
                actor: {type: object}
                verb:
                  type: object
                  required: [id]
                  properties:
                    id: {type: string}
                    display: {type: object, additionalProperties: {type: string}}
                object: {type: object}
                result: {type: object}
                context: {type: object}
                timestamp: {type: string, format: date-time}
                stored: {type: string, format: date-time}
                authority: {type: object}
                version: {type: string}
                attachments: {type: array, items: {type: object}}
            XAPIStatementResult:
              type: object
              required: [statements, more]
              properties:
                statements:
                  type: array
                  items: {$ref: "#/components/schemas/XAPIStatement"}
                more:
                  type: string
                  description: "Link to the next page (/xAPI/statements?more=...), or the empty string on the last page."
            XAPIAbout:
              type: object
              required: [version]
              properties:
                version: {type: array, items: {type: string}}
                extensions: {type: object}
            FeatureEvent:
              type: object
              required: [feature, actor, occurred_at]
              additionalProperties: false
              properties:
                feature: {type: string, pattern: "^[a-z][a-z0-9_.-]*$", maxLength: 64}
                actor: {type: string, minLength: 1, maxLength: 200}
                occurred_at: {type: string, format: date-time, description: At most 5 minutes in the future.}
                id: {type: string, format: uuid, description: Optional; an event whose id is already stored is skipped.}
            FeatureEventBatch:
              oneOf:
                - type: object
                  required: [events]
                  properties:
                    events:
                      type: array
                      minItems: 1
                      maxItems: 10000
                      items: {$ref: "#/components/schemas/FeatureEvent"}
                - type: array
                  minItems: 1
                  maxItems: 10000
                  items: {$ref: "#/components/schemas/FeatureEvent"}
            FeatureEventsAccepted:
              type: object
              required: [received, stored]
              properties:
                received: {type: integer, description: Events in the batch.}
                stored: {type: integer, description: Events that were new.}
          responses:
            XAPIBadRequest:
              description: "Missing or unsupported X-Experience-API-Version, invalid JSON or statement (the message names statements[i] and the property), an empty array or more than 5,000 statements, one id twice in a batch, voiding a voiding statement, bad query parameters, multipart/mixed, attachments=true, or a parameter or header naming a tenant. Nothing of the batch is stored."
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            WriterUnauthorized:
              description: "Missing, malformed, unknown, wrong or revoked LRS credentials (WWW-Authenticate Basic), a refused bearer token (WWW-Authenticate Bearer), or a platform token."
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            WriterForbidden:
              description: A viewer token tried to write; writing needs an LRS key or a tenant admin token.
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
            PayloadTooLarge:
              description: "The body exceeds serve --max-body-bytes (default 8 MiB); the message names the limit."
              content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}
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
          /xAPI/about:
            get:
              summary: The xAPI versions this LRS speaks (1.0.x only, so that 1.0 clients accept it; 2.0.x requests are still served). No credentials needed.
              responses:
                "200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/XAPIAbout"}}}}
          /xAPI/statements:
            parameters:
              - $ref: "#/components/parameters/xapiVersion"
            post:
              summary: Store one statement or an array of up to 5,000, all or nothing, in the credential's tenant.
              description: "A stored id with the same content is accepted unchanged (stored, authority and version are ignored, and timestamp when the sender gave none); different content is 409 and nothing of the batch is stored. Voiding statements hide their target."
              security: [{lrsKey: []}, {tenantToken: []}]
              requestBody:
                required: true
                content:
                  application/json:
                    schema:
                      oneOf:
                        - {$ref: "#/components/schemas/XAPIStatement"}
                        - {type: array, minItems: 1, maxItems: 5000, items: {$ref: "#/components/schemas/XAPIStatement"}}
              responses:
                "200":
                  description: The ids of the statements, in the order sent.
                  content: {application/json: {schema: {type: array, items: {type: string, format: uuid}}}}
                "400": {$ref: "#/components/responses/XAPIBadRequest"}
                "401": {$ref: "#/components/responses/WriterUnauthorized"}
                "403": {$ref: "#/components/responses/WriterForbidden"}
                "409": {description: "A different statement is already stored under one of the ids.", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
            put:
              summary: Store one statement under statementId.
              security: [{lrsKey: []}, {tenantToken: []}]
              parameters:
                - name: statementId
                  in: query
                  required: true
                  schema: {type: string, format: uuid}
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: "#/components/schemas/XAPIStatement"}
              responses:
                "204": {description: "Stored, or already stored with the same content."}
                "400": {$ref: "#/components/responses/XAPIBadRequest"}
                "401": {$ref: "#/components/responses/WriterUnauthorized"}
                "403": {$ref: "#/components/responses/WriterForbidden"}
                "409": {description: "A different statement is already stored under statementId.", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
            get:
              summary: One statement (statementId, voidedStatementId) or a page of the tenant's statements that match the filters; voided statements never appear in pages.
              description: "Responses carry X-Experience-API-Consistent-Through and, when they hold a statement, Last-Modified. Query strings are decoded form-style (+ is a space). Tenant tokens with role viewer may read."
              security: [{lrsKey: []}, {tenantToken: []}]
              parameters:
                - $ref: "#/components/parameters/statementIdQuery"
                - {name: voidedStatementId, in: query, schema: {type: string, format: uuid}}
                - {name: agent, in: query, description: JSON Agent or identified Group., schema: {type: string}}
                - {name: verb, in: query, schema: {type: string}}
                - {name: activity, in: query, schema: {type: string}}
                - {name: registration, in: query, schema: {type: string, format: uuid}}
                - {name: related_activities, in: query, schema: {type: boolean, default: false}}
                - {name: related_agents, in: query, schema: {type: boolean, default: false}}
                - {name: since, in: query, description: Statements stored after this time., schema: {type: string, format: date-time}}
                - {name: until, in: query, description: Statements stored at or before this time., schema: {type: string, format: date-time}}
                - {name: limit, in: query, description: "Per page; 0 means the maximum, 500.", schema: {type: integer, minimum: 0, default: 100}}
                - {name: ascending, in: query, schema: {type: boolean, default: false}}
                - {name: format, in: query, description: "canonical keeps one language per language map, chosen by Accept-Language.", schema: {type: string, enum: [exact, ids, canonical], default: exact}}
                - {name: attachments, in: query, description: Only false is supported., schema: {type: boolean, enum: [false]}}
                - {name: more, in: query, description: "The cursor of a more link; stands alone.", schema: {type: string}}
              responses:
                "200":
                  description: The statement (statementId or voidedStatementId), or a page of statements.
                  content:
                    application/json:
                      schema:
                        oneOf:
                          - {$ref: "#/components/schemas/XAPIStatement"}
                          - {$ref: "#/components/schemas/XAPIStatementResult"}
                "400": {$ref: "#/components/responses/XAPIBadRequest"}
                "401": {$ref: "#/components/responses/WriterUnauthorized"}
                "404": {description: "No such statement in this tenant (or it is voided; for voidedStatementId, not voided).", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
            head:
              summary: As GET, without a body.
              security: [{lrsKey: []}, {tenantToken: []}]
              responses:
                "200": {description: OK}
                "400": {description: Bad request}
                "401": {description: Unauthorized}
                "404": {description: Not found}
          /api/v1/events:
            post:
              summary: Store product feature-usage events for the credential's tenant, all or nothing; events whose id is already stored are skipped.
              description: "Up to 10,000 events per batch; an invalid event refuses the batch with a message naming events[i] and the field. The tenant's daily feature-usage roll-up is recomputed for the days of the new events in the same transaction."
              security: [{lrsKey: []}, {tenantToken: []}]
              requestBody:
                required: true
                content:
                  application/json:
                    schema: {$ref: "#/components/schemas/FeatureEventBatch"}
              responses:
                "200": {description: OK, content: {application/json: {schema: {$ref: "#/components/schemas/FeatureEventsAccepted"}}}}
                "400": {description: "Invalid body or event, an empty batch, more than 10,000 events, one id twice, or a parameter or header naming a tenant.", content: {application/json: {schema: {$ref: "#/components/schemas/Error"}}}}
                "401": {$ref: "#/components/responses/WriterUnauthorized"}
                "403": {$ref: "#/components/responses/WriterForbidden"}
                "413": {$ref: "#/components/responses/PayloadTooLarge"}
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
          /api/v1/platform/tenants/{slug}:
            delete:
              summary: Delete a tenant and everything it owns (statements, derived facts, roll-ups, events, LRS keys, saved views, shared links). Audited; audit rows stay.
              security: [{platformToken: []}]
              parameters:
                - {name: slug, in: path, required: true, schema: {type: string}}
                - {name: confirm, in: query, required: true, description: The slug again, to confirm., schema: {type: string}}
              responses:
                "200":
                  description: Deleted
                  content:
                    application/json:
                      schema:
                        type: object
                        properties:
                          deleted: {type: string}
                          tenant_id: {type: string, format: uuid}
                "400": {$ref: "#/components/responses/BadRequest"}
                "401": {$ref: "#/components/responses/Unauthorized"}
                "403": {$ref: "#/components/responses/Forbidden"}
                "404": {$ref: "#/components/responses/NotFound"}
        """
}
