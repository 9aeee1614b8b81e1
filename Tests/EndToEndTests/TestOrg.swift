import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import NIOHTTP1

/// An organization talking to a real vaultd over loopback, with knobs to misbehave.
struct TestOrg {
    let keys = OrgKeys.generate()
    let v: VaultFixture

    var client: OrgClient { try! OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: keys) }

    func request(id: String, vault: String? = nil, from: String = "2026-11-01T00:00:00Z", to: String = "2026-12-01T00:00:00Z",
                 streams: [String] = ["home/livingroom/temperature"]) async throws -> AccessRequest {
        var origin = vault ?? ""
        if vault == nil { origin = try await client.origin() }
        return AccessRequest(vault: origin, id: id, orgName: "Acme Health Study", orgContact: "privacy@acme.example",
                      streams: streams, from: Timestamp.parseRFC3339(from)!, to: Timestamp.parseRFC3339(to)!, purpose: "sleep research",
                      deliveryKey: keys.delivery.publicKey, expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
    }

    /// A signed call whose parts can be tampered with after signing.
    func call(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, created: Int64? = nil, nonce: String? = nil,
              components: [String]? = nil, sendBody: [UInt8]? = nil, flipSignature: Bool = false, signWith: SigningKeyPair? = nil,
              keyId: String? = nil) async throws -> HTTPClient.Response {
        let headers = try signedHeaders(method, path, body: body, created: created, nonce: nonce, components: components,
                                        flipSignature: flipSignature, signWith: signWith, keyId: keyId)
        return try await send(method, path, headers: headers, body: sendBody ?? body)
    }

    /// Sends exactly these headers: a replay sends a signed call's headers a second time.
    func send(_ method: HTTPMethod, _ path: String, headers: [(String, String)], body: [UInt8]?) async throws -> HTTPClient.Response {
        try await HTTPClient(target: .tcp(host: "127.0.0.1", port: v.publicPort)).send(method: method, path: path, headers: headers, body: body)
    }

    /// The headers of a signed call (Content-Type, Content-Digest with a body, Signature-Input, Signature).
    func signedHeaders(_ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, created: Int64? = nil, nonce: String? = nil,
                       components: [String]? = nil, flipSignature: Bool = false, signWith: SigningKeyPair? = nil,
                       keyId: String? = nil) throws -> [(String, String)] {
        var headers: [(String, String)] = [("Content-Type", "application/jose+json")]
        if let body { headers.append(("Content-Digest", HTTPMessageSignature.contentDigest(body))) }
        let parts = HTTPMessageSignature.RequestParts(method: method.rawValue, path: path, query: nil, authority: "127.0.0.1", headers: headers)
        let params = HTTPMessageSignature.Parameters(
            components: components ?? (body == nil ? ["@method", "@path"] : ["@method", "@path", "content-digest"]),
            created: created ?? Timestamp.now() / 1000, nonce: nonce ?? Encoding.base64url(Sodium.randomBytes(12)),
            keyId: keyId ?? keys.keyId, alg: "ed25519")
        var (input, signature) = try HTTPMessageSignature.sign(parts, parameters: params, keyPair: signWith ?? keys.signing)
        if flipSignature {
            var raw = Encoding.fromBase64(signature.dropFirst("sig1=:".count).dropLast())!
            raw[10] ^= 0x01
            signature = "sig1=:\(Encoding.base64(raw)):"
        }
        headers += [("Signature-Input", input), ("Signature", signature)]
        return headers
    }

    func submitBody(_ r: AccessRequest) -> [UInt8] { client.jws(for: r).serialized() }
}

func problem(_ r: HTTPClient.Response) -> (Int, String) {
    let p = try? JSONDecoder().decode(Problem.self, from: Data(r.body))
    return (r.status, p?.code ?? "not a problem document: \(String(decoding: r.body, as: UTF8.self))")
}
