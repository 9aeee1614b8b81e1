import CSodium
import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

/// base64url → bytes with Foundation only (a second code path beside `Encoding`).
private func independentBase64url(_ s: String) -> Data? {
    var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while t.count % 4 != 0 { t += "=" }
    return Data(base64Encoded: t)
}

@Suite("JWS and access requests")
struct JWSTests {
    let keys = OrgKeys.generate()

    func request(vault: String = "edgevault.local/abc") -> AccessRequest {
        AccessRequest(vault: vault, id: "study-2026", orgName: "Acme Health Study", orgContact: "privacy@acme.example",
                      streams: ["home/livingroom/temperature"], from: 1_793_491_200_000, to: 1_796_083_200_000, purpose: "sleep",
                      deliveryKey: keys.delivery.publicKey, expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
    }

    @Test("A toolkit JWS verifies in an independent code path: JSONSerialization, Foundation base64, raw libsodium")
    func independentVerification() throws {
        let client = try OrgClient(vaultURL: "http://127.0.0.1:1", keys: keys)
        let bytes = client.jws(for: request()).serialized()
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        let payload = try #require(doc["payload"] as? String)
        let sigs = try #require(doc["signatures"] as? [[String: String]])
        #expect(sigs.count == 1)
        let prot = try #require(sigs[0]["protected"]), sigText = try #require(sigs[0]["signature"])
        let protData = try #require(independentBase64url(prot))
        let header = try #require(try JSONSerialization.jsonObject(with: protData) as? [String: Any])
        #expect(header["alg"] as? String == "Ed25519")
        let jwk = try #require(header["jwk"] as? [String: String])
        #expect(jwk["kty"] == "OKP" && jwk["crv"] == "Ed25519")
        // RFC 7638: thumbprint of {"crv","kty","x"} in this exact order.
        let canonical = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"\(jwk["x"]!)\"}"
        var digest = [UInt8](repeating: 0, count: 32)
        _ = crypto_hash_sha256(&digest, Array(canonical.utf8), UInt64(canonical.utf8.count))
        let thumb = Data(digest).base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
        #expect(header["kid"] as? String == thumb)
        let input = Array((prot + "." + payload).utf8)
        let sigData = try #require(independentBase64url(sigText))
        let pkData = try #require(independentBase64url(jwk["x"]!))
        let sig = [UInt8](sigData), pk = [UInt8](pkData)
        #expect(crypto_sign_verify_detached(sig, input, UInt64(input.count), pk) == 0)
        let payloadData = try #require(independentBase64url(payload))
        let body = try #require(try JSONSerialization.jsonObject(with: payloadData) as? [String: Any])
        #expect(body["type"] as? String == "edgevault.access-request/v1")
        #expect(body["id"] as? String == "study-2026")
    }

    @Test("Our verifier accepts the toolkit's JWS and refuses a changed payload, a wrong kid or a wrong alg")
    func verifier() throws {
        let jws = JWS.sign(payload: request().payload(), header: JWS.orgHeader(publicKey: keys.signing.publicKey.bytes), keyPair: keys.signing)
        let parsed = try JWS(json: jws.serialized())
        #expect(try parsed.verifyOrgSignature(parsed.signatures[0]).keyId == keys.keyId)
        var changed = parsed
        changed.payloadB64 = Encoding.base64url(request(vault: "edgevault.local/xyz").payload())
        #expect(throws: JWS.Failure.self) { try changed.verifyOrgSignature(changed.signatures[0]) }
        let other = OrgKeys.generate()
        var wrongKid = JWS.orgHeader(publicKey: keys.signing.publicKey.bytes)
        if case .object(var o) = wrongKid { o["kid"] = .string(other.keyId); wrongKid = .object(o) }
        let badKid = JWS.sign(payload: request().payload(), header: wrongKid, keyPair: keys.signing)
        #expect(throws: JWS.Failure.self) { try badKid.verifyOrgSignature(badKid.signatures[0]) }
        var es256 = JWS.orgHeader(publicKey: keys.signing.publicKey.bytes)
        if case .object(var o) = es256 { o["alg"] = .string("EdDSA"); es256 = .object(o) }
        let badAlg = JWS.sign(payload: request().payload(), header: es256, keyPair: keys.signing)
        #expect(throws: JWS.Failure.self) { try badAlg.verifyOrgSignature(badAlg.signatures[0]) }
        #expect(throws: JWS.Failure.self) { try JWS(json: Array("{\"payload\":\"e30\",\"protected\":\"e30\",\"signature\":\"AA\"}".utf8)) }
    }

    @Test("Access request validation names what is wrong")
    func validation() throws {
        let now = Timestamp.now()
        #expect(try AccessRequest(payload: request().payload(), origin: "edgevault.local/abc", now: now).id == "study-2026")
        #expect(throws: AccessRequest.Invalid.self) { try AccessRequest(payload: request().payload(), origin: "edgevault.local/other", now: now) }
        var r = request()
        r.expires = now - 1
        #expect(throws: AccessRequest.Invalid.self) { try AccessRequest(payload: r.payload(), origin: "edgevault.local/abc", now: now) }
        r = request()
        r.deliveryKey = [UInt8](repeating: 0, count: 32)
        #expect(throws: AccessRequest.Invalid.self) { try AccessRequest(payload: r.payload(), origin: "edgevault.local/abc", now: now) }
        r = request()
        r.id = "has space"
        #expect(throws: AccessRequest.Invalid.self) { try AccessRequest(payload: r.payload(), origin: "edgevault.local/abc", now: now) }
        r = request()
        r.access = "aggregate"
        #expect(throws: AccessRequest.Invalid.self) { try AccessRequest(payload: r.payload(), origin: "edgevault.local/abc", now: now) }
    }

    @Test("Every JWS with crit (protected or not) or an unprotected header is refused as unsupported, whoever signed it")
    func noExtensions() throws {
        let keys = SigningKeyPair.generate()
        for header: JSONValue in [.object(["alg": .string("Ed25519"), "crit": .array([.string("exp")]), "exp": .number("1")]),
                                  .object(["alg": .string("Ed25519"), "crit": .array([.string("b64")]), "b64": .bool(false)])] {
            let bytes = JWS.sign(payload: Array("{}".utf8), header: header, keyPair: keys).serialized()
            #expect(throws: JWS.Failure.self) { try JWS(json: bytes) }
            do { _ = try JWS(json: bytes) } catch { #expect(error.isUnsupported && error.detail.contains("crit")) }
        }
        let plain = JWS.sign(payload: Array("{}".utf8), header: .object(["alg": .string("Ed25519")]), keyPair: keys)
        guard case .object(var o) = try JSONValue.parse(plain.serialized()), case .array(var sigs)? = o["signatures"],
              case .object(var first) = sigs[0] else { Issue.record("shape"); return }
        first["header"] = .object(["kid": .string("zzz")])
        sigs[0] = .object(first)
        o["signatures"] = .array(sigs)
        do {
            _ = try JWS(json: JSONValue.object(o).serialized())
            Issue.record("an unprotected header was accepted")
        } catch { #expect(error.isUnsupported && error.detail.contains("unprotected")) }
        #expect(try JWS(json: plain.serialized()).signatures.count == 1)
    }
}
