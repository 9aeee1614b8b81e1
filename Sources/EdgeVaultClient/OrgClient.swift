import EdgeVaultCore
import EdgeVaultStore
import NIOHTTP1
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization's side of the public API: every call signed with RFC 9421 by the same
/// library code the vault verifies with.
public struct OrgClient: Sendable {
    public let http: HTTPClient
    public let keys: OrgKeys

    public init(vaultURL: String, keys: OrgKeys, trustRoots: String? = nil) throws {
        self.http = try HTTPClient(url: vaultURL, trustRoots: trustRoots)
        self.keys = keys
    }

    /// Sends a signed call: `@method`, `@path`, `@query` (when present) and `content-digest`
    /// (when there is a body) covered, a fresh nonce, `created` now.
    /// Sends a signed call; a `429` is retried after its `Retry-After` (at most 5 times, each
    /// with a fresh signature and nonce).
    public func send(_ method: HTTPMethod, _ target: String, body: [UInt8]? = nil, contentType: String? = nil,
                     headers extra: [(String, String)] = []) async throws -> HTTPClient.Response {
        var attempt = 0
        while true {
            let r = try await send(method, target, body: body, contentType: contentType, created: Timestamp.now() / 1000,
                                   nonce: Encoding.base64url(Sodium.randomBytes(16)), headers: extra)
            guard r.status == 429, attempt < 5 else { return r }
            attempt += 1
            let wait = min(30, max(1, Int(r.header("Retry-After") ?? "") ?? 1))
            try await Task.sleep(for: .seconds(wait))
        }
    }

    /// Sends one signed call with the given `created` and `nonce`.
    public func send(_ method: HTTPMethod, _ target: String, body: [UInt8]? = nil, contentType: String? = nil,
                     created: Int64, nonce: String, headers extra: [(String, String)] = []) async throws -> HTTPClient.Response {
        var headers: [(String, String)] = extra
        if let contentType { headers.append(("Content-Type", contentType)) }
        var components = ["@method", "@path"]
        let path: String, query: String?
        if let q = target.firstIndex(of: "?") {
            path = String(target[..<q])
            query = String(target[target.index(after: q)...])
            components.append("@query")
        } else {
            path = target
            query = nil
        }
        if let body, !body.isEmpty {
            headers.append(("Content-Digest", HTTPMessageSignature.contentDigest(body)))
            components.append("content-digest")
        }
        let parts = HTTPMessageSignature.RequestParts(method: method.rawValue, path: path, query: query, authority: http.target.authority, headers: headers)
        let params = HTTPMessageSignature.Parameters(components: components, created: created, nonce: nonce, keyId: keys.keyId, alg: "ed25519")
        let (input, signature) = try HTTPMessageSignature.sign(parts, parameters: params, keyPair: keys.signing)
        headers += [("Signature-Input", input), ("Signature", signature)]
        return try await http.send(method: method, path: target, headers: headers, body: body)
    }

    /// The vault's log origin, from its latest checkpoint (the `vault` a request must name).
    public func origin() async throws -> String {
        let r = try await http.send(method: .GET, path: "/v1/log/checkpoint")
        guard r.status == 200, let line = String(decoding: r.body, as: UTF8.self).split(separator: "\n").first else {
            throw VaultError(.protocolError, "\(http.target) did not serve a checkpoint (is it an EdgeVault?)")
        }
        return String(line)
    }

    /// Signs `request` as a JWS with the organization's key.
    public func jws(for request: AccessRequest) -> JWS {
        JWS.sign(payload: request.payload(), header: JWS.orgHeader(publicKey: keys.signing.publicKey.bytes), keyPair: keys.signing)
    }

    public typealias Status = OrgAPI.RequestState

    static func decode(_ r: HTTPClient.Response) throws -> Status {
        guard (200..<300).contains(r.status) else { throw AdminClient.problemError(r) }
        guard let s = try? JSONDecoder().decode(Status.self, from: Data(r.body)) else {
            throw VaultError(.protocolError, "unexpected answer (\(r.status))")
        }
        return s
    }

    public func submit(_ request: AccessRequest) async throws -> Status {
        try Self.decode(try await send(.POST, "/v1/requests", body: jws(for: request).serialized(), contentType: "application/jose+json"))
    }

    public func status(id: String) async throws -> Status {
        try Self.decode(try await send(.GET, "/v1/requests/\(AdminClient.percentEncode(id))"))
    }

    public func withdraw(id: String) async throws -> Status {
        try Self.decode(try await send(.DELETE, "/v1/requests/\(AdminClient.percentEncode(id))"))
    }
}
