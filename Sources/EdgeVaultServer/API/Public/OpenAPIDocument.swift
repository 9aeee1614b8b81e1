import EdgeVaultCore
import EdgeVaultStore
/// The public API's OpenAPI 3.1 document, served at `GET /v1/openapi.yaml`. The repository's
/// `openapi.yaml` is this same text; a test keeps the two identical and checks that every
/// documented operation is routed and every route is documented.
public enum OpenAPIDocument {
    public static let yaml = #"""
openapi: 3.1.0
info:
  title: EdgeVault public API
  version: 0.1.0
  description: |
    The API organizations use to ask a person's vault for access, and anyone uses to check
    the vault's log. Every call except the log endpoints, /healthz and this document carries
    an RFC 9421 HTTP Message Signature (ed25519; keyid = the organization's RFC 7638
    thumbprint; covering "@method", "@path", "@query" when there is a query and
    "content-digest" (RFC 9530, sha-256) when there is a body; created within ±300 s; a fresh
    nonce). Errors are RFC 9457 problem documents with type urn:edgevault:problem:<code>.
servers:
  - url: http://127.0.0.1:8080
components:
  securitySchemes:
    httpMessageSignature:
      type: apiKey
      in: header
      name: Signature
      description: RFC 9421 Signature and Signature-Input headers (ed25519), see info.description.
  parameters:
    RequestId:
      name: id
      in: path
      required: true
      description: The organization-chosen request id (1–64 characters of A-Z a-z 0-9 . _ -).
      schema: { type: string, maxLength: 64 }
  schemas:
    Problem:
      type: object
      required: [type, title, status, detail]
      properties:
        type: { type: string, examples: ["urn:edgevault:problem:signature_invalid"] }
        title: { type: string }
        status: { type: integer }
        detail: { type: string }
        line: { type: integer }
        retryAfter: { type: integer }
    JWS:
      type: object
      description: JWS general JSON serialization (RFC 7515 §7.2.1) whose payload is an edgevault.access-request/v1.
      required: [payload, signatures]
      properties:
        payload: { type: string }
        signatures:
          type: array
          items:
            type: object
            required: [protected, signature]
            properties:
              protected: { type: string }
              signature: { type: string }
    RequestStatus:
      type: object
      required: [id, status]
      properties:
        id: { type: string }
        status:
          type: string
          enum: [pending, granted, denied, withdrawn, expired, revoked]
          description: granted until the person revokes the grant (revoked) or it passes its expiry (expired); a pending request past its expiry is expired too. Fetch only while granted.
        reason: { type: string }
    Receipt:
      type: object
      required: [index, leaf, proof, checkpoint]
      properties:
        index: { type: integer, minimum: 0 }
        leaf: { type: string, contentEncoding: base64 }
        proof: { type: array, items: { type: string, contentEncoding: base64 } }
        checkpoint: { type: string, description: C2SP signed checkpoint }
    InclusionProof:
      type: object
      required: [index, size, hashes]
      properties:
        index: { type: integer, minimum: 0 }
        size: { type: integer, minimum: 1 }
        hashes: { type: array, items: { type: string, contentEncoding: base64 } }
    ConsistencyProof:
      type: object
      required: [from, to, hashes]
      properties:
        from: { type: integer, minimum: 1 }
        to: { type: integer, minimum: 1 }
        hashes: { type: array, items: { type: string, contentEncoding: base64 } }
  responses:
    Problem:
      description: An RFC 9457 problem document.
      content:
        application/problem+json:
          schema: { $ref: "#/components/schemas/Problem" }
paths:
  /healthz:
    get:
      operationId: health
      summary: Liveness.
      responses:
        "200":
          description: The daemon is serving.
          content:
            application/json:
              schema: { type: object, properties: { status: { type: string } } }
  /v1/openapi.yaml:
    get:
      operationId: openapi
      summary: This document.
      responses:
        "200":
          description: OpenAPI 3.1 YAML.
          content:
            application/yaml:
              schema: { type: string }
  /v1/requests:
    post:
      operationId: submitRequest
      summary: Submit a signed access request.
      security: [{ httpMessageSignature: [] }]
      requestBody:
        required: true
        content:
          application/jose+json:
            schema: { $ref: "#/components/schemas/JWS" }
      responses:
        "202":
          description: Stored as pending; the person decides.
          content:
            application/json:
              schema: { $ref: "#/components/schemas/RequestStatus" }
        "400": { $ref: "#/components/responses/Problem" }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "409": { $ref: "#/components/responses/Problem" }
        "413": { $ref: "#/components/responses/Problem" }
        "415": { $ref: "#/components/responses/Problem" }
        "429": { $ref: "#/components/responses/Problem" }
  /v1/requests/{id}:
    parameters:
      - $ref: "#/components/parameters/RequestId"
    get:
      operationId: requestStatus
      summary: The status of one of your requests.
      security: [{ httpMessageSignature: [] }]
      responses:
        "200":
          description: Its status (and the reason of a denial).
          content:
            application/json:
              schema: { $ref: "#/components/schemas/RequestStatus" }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
        "429": { $ref: "#/components/responses/Problem" }
    delete:
      operationId: withdrawRequest
      summary: Withdraw one of your pending requests.
      security: [{ httpMessageSignature: [] }]
      responses:
        "200":
          description: Withdrawn.
          content:
            application/json:
              schema: { $ref: "#/components/schemas/RequestStatus" }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
        "409": { $ref: "#/components/responses/Problem" }
        "429": { $ref: "#/components/responses/Problem" }
  /v1/grants/{id}:
    parameters:
      - $ref: "#/components/parameters/RequestId"
    get:
      operationId: grant
      summary: Your co-signed grant and a receipt proving it is in the vault's log.
      security: [{ httpMessageSignature: [] }]
      responses:
        "200":
          description: The grant (JWS general JSON serialization with the organization's and the person's signatures) and its receipt.
          content:
            application/json:
              schema:
                type: object
                required: [grant, receipt]
                properties:
                  grant: { $ref: "#/components/schemas/JWS" }
                  receipt: { $ref: "#/components/schemas/Receipt" }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
        "429": { $ref: "#/components/responses/Problem" }
  /v1/grants/{id}/segments:
    parameters:
      - $ref: "#/components/parameters/RequestId"
    get:
      operationId: grantSegments
      summary: The segments your live grant covers, each with its key sealed to your delivery key.
      security: [{ httpMessageSignature: [] }]
      responses:
        "200":
          description: The segments.
          content:
            application/json:
              schema:
                type: object
                required: [segments]
                properties:
                  segments:
                    type: array
                    items:
                      type: object
                      required: [id, stream, start, end, chunks, sealedKey]
                      properties:
                        id: { type: string }
                        stream: { type: string }
                        start: { type: string, format: date-time }
                        end: { type: string, format: date-time }
                        chunks: { type: integer }
                        sealedKey: { type: string, contentEncoding: base64 }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
        "429": { $ref: "#/components/responses/Problem" }
        "503": { $ref: "#/components/responses/Problem" }
  /v1/grants/{id}/segments/{segment}/chunks:
    parameters:
      - $ref: "#/components/parameters/RequestId"
      - { name: segment, in: path, required: true, schema: { type: string } }
      - { name: after, in: query, required: false, schema: { type: integer, minimum: -1 } }
      - { name: limit, in: query, required: false, schema: { type: integer, minimum: 1, maximum: 64 } }
    get:
      operationId: grantChunks
      summary: A page of a segment's encrypted chunks (each page is a data.released entry in the log).
      security: [{ httpMessageSignature: [] }]
      responses:
        "200":
          description: Chunks with seq greater than after, and the seq to continue after (null at the end).
          content:
            application/json:
              schema:
                type: object
                required: [chunks, next]
                properties:
                  chunks:
                    type: array
                    items:
                      type: object
                      required: [seq, ciphertext]
                      properties:
                        seq: { type: integer }
                        ciphertext: { type: string, contentEncoding: base64 }
                  next: { type: [integer, "null"] }
        "400": { $ref: "#/components/responses/Problem" }
        "401": { $ref: "#/components/responses/Problem" }
        "403": { $ref: "#/components/responses/Problem" }
        "404": { $ref: "#/components/responses/Problem" }
        "429": { $ref: "#/components/responses/Problem" }
        "503": { $ref: "#/components/responses/Problem" }
  /v1/vault:
    get:
      operationId: vault
      summary: The vault's origin, the person's public signing key and the log's verifier key (pinned by organizations at first contact).
      responses:
        "200":
          description: Public keys.
          content:
            application/json:
              schema:
                type: object
                required: [origin, userKeyId, userKey, logKey]
                properties:
                  origin: { type: string }
                  userKeyId: { type: string }
                  userKey: { type: string, contentEncoding: base64url }
                  logKey: { type: string }
  /v1/log/checkpoint:
    get:
      operationId: checkpoint
      summary: The latest signed checkpoint (C2SP tlog-checkpoint signed note).
      responses:
        "200":
          description: The checkpoint.
          content:
            text/plain:
              schema: { type: string }
        "404": { $ref: "#/components/responses/Problem" }
  /v1/log/proof/inclusion:
    get:
      operationId: inclusionProof
      summary: RFC 9162 inclusion proof of leaf index in the tree of size leaves.
      parameters:
        - { name: index, in: query, required: true, schema: { type: integer, minimum: 0 } }
        - { name: size, in: query, required: true, schema: { type: integer, minimum: 1 } }
      responses:
        "200":
          description: The proof.
          content:
            application/json:
              schema: { $ref: "#/components/schemas/InclusionProof" }
        "400": { $ref: "#/components/responses/Problem" }
  /v1/log/proof/consistency:
    get:
      operationId: consistencyProof
      summary: RFC 9162 consistency proof between two tree sizes.
      parameters:
        - { name: from, in: query, required: true, schema: { type: integer, minimum: 1 } }
        - { name: to, in: query, required: true, schema: { type: integer, minimum: 1 } }
      responses:
        "200":
          description: The proof.
          content:
            application/json:
              schema: { $ref: "#/components/schemas/ConsistencyProof" }
        "400": { $ref: "#/components/responses/Problem" }
"""#

    /// The documented operations as (method, path template), for the routing test.
    public static var operations: [(method: String, path: String)] {
        var out: [(String, String)] = []
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false) {
            if line == "paths:" { inPaths = true; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let p = path, line.hasPrefix("    "), !line.hasPrefix("     "),
                      let m = ["get", "post", "put", "delete", "patch"].first(where: { line == "    \($0):" }) {
                out.append((m.uppercased(), p))
            }
        }
        return out
    }
}
