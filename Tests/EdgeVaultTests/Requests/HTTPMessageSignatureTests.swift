import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("RFC 9421 HTTP Message Signatures")
struct HTTPMessageSignatureTests {
    let v: [String: Any]
    let request: HTTPMessageSignature.RequestParts
    let keyPair: SigningKeyPair

    init() throws {
        v = try Fixtures.json("rfc9421-b26")
        let r = v["request"] as! [String: Any]
        request = .init(method: r["method"] as! String, path: r["path"] as! String, query: r["query"] as? String,
                        authority: r["authority"] as! String, headers: (r["headers"] as! [[String]]).map { ($0[0], $0[1]) })
        // The PKCS#8 key ends with the 32-byte seed.
        var seed = Array(Encoding.fromBase64(v["privateKeyPKCS8"] as! String)!.suffix(32))
        keyPair = SigningKeyPair(seed: SecureBytes(wiping: &seed))
    }

    var parameters: HTTPMessageSignature.Parameters {
        .init(components: v["components"] as! [String], created: Int64(v["created"] as! Int), keyId: v["keyid"] as? String)
    }

    @Test("B.1.4's private key gives B.1.4's public key")
    func key() {
        #expect(Encoding.base64url(keyPair.publicKey.bytes) == v["publicKeyX"] as! String)
    }

    @Test("B.2.6: the same signature base, Signature-Input and Signature, and the signature verifies")
    func b26() throws {
        #expect(try HTTPMessageSignature.signatureBase(request, parameters: parameters) == v["signatureBase"] as! String)
        let (input, signature) = try HTTPMessageSignature.sign(request, parameters: parameters, label: "sig-b26", keyPair: keyPair)
        #expect(input == v["signatureInput"] as! String)
        #expect(signature == v["signature"] as! String)

        var signed = request
        signed.headers += [("Signature-Input", v["signatureInput"] as! String), ("Signature", v["signature"] as! String)]
        let found = try HTTPMessageSignature.parse(signed)
        #expect(found.label == "sig-b26" && found.parameters == parameters)
        let base = try HTTPMessageSignature.signatureBase(signed, parameters: found.parameters)
        #expect(keyPair.publicKey.isValidSignature(found.signature, for: Array(base.utf8)))
        var tampered = signed
        tampered.path = "/bar"
        #expect(!keyPair.publicKey.isValidSignature(found.signature, for: Array(try HTTPMessageSignature.signatureBase(tampered, parameters: found.parameters).utf8)))
    }

    @Test("The signature base keeps the signer's parameter order (RFC 9421 §2.3), not ours")
    func signerParameterOrder() throws {
        // As an independent client (Python's schemathesis hook) writes it: created, keyid, nonce, alg.
        let params = "(\"@method\" \"@path\");created=1618884473;keyid=\"test-key-ed25519\";nonce=\"n-1\";alg=\"ed25519\""
        let base = "\"@method\": POST\n\"@path\": /foo\n\"@signature-params\": " + params
        let signature = keyPair.sign(Array(base.utf8))
        var signed = request
        signed.headers += [("Signature-Input", "sig1=" + params), ("Signature", "sig1=:\(Encoding.base64(signature)):")]
        let found = try HTTPMessageSignature.parse(signed)
        #expect(try HTTPMessageSignature.signatureBase(signed, parameters: found.parameters) == base)
        #expect(keyPair.publicKey.isValidSignature(found.signature, for: Array(base.utf8)))
        var reordered = request
        reordered.headers += [("Signature-Input", "sig1=(\"@method\" \"@path\");keyid=\"test-key-ed25519\";created=1618884473;nonce=\"n-1\";alg=\"ed25519\""),
                              ("Signature", "sig1=:\(Encoding.base64(signature)):")]
        let other = try HTTPMessageSignature.parse(reordered)
        #expect(other.parameters == found.parameters, "the same parameters")
        #expect(!keyPair.publicKey.isValidSignature(other.signature, for: Array(try HTTPMessageSignature.signatureBase(reordered, parameters: other.parameters).utf8)),
                "but another order is another signature base")
    }

    @Test("Malformed or missing signature headers are refused with a reason")
    func malformed() {
        #expect(throws: HTTPMessageSignature.SignatureFailure.self) { try HTTPMessageSignature.parse(request) }
        for (input, sig) in [("sig1=(\"@method\")", "sig1=:AAAA:"), ("sig1=(\"@method\");created=1", "sig1=notbytes"),
                             ("sig1=(\"@method\");created=1", "sig2=:AAAA:"), ("sig1=(@method);created=1", "sig1=:AAAA:"),
                             ("sig1=(\"@method\" \"@method\");created=1", "sig1=:AAAA:"), ("sig1=(\"@method\");created=1;weird=2", "sig1=:AAAA:"),
                             // RFC 9651 display strings and dates: the deprecated accessors of
                             // swift-http-structured-headers trap on them (found by fuzzing).
                             ("sig1=(\"@method\" %\"@query\");created=1", "sig1=:AAAA:"), ("sig1=(\"@method\");created=@1", "sig1=:AAAA:"),
                             ("sig1=(\"@method\");created=1", "sig1=%\"x\""), ("sig1=(\"@method\");created=1;nonce=%\"n\"", "sig1=:AAAA:")] {
            var r = request
            r.headers += [("Signature-Input", input), ("Signature", sig)]
            #expect(throws: HTTPMessageSignature.SignatureFailure.self, "\(input) / \(sig)") { try HTTPMessageSignature.parse(r) }
        }
    }

    @Test("Content-Digest (RFC 9530) sha-256 matches only the body it was made for")
    func digest() {
        let body = Array("{\"hello\": \"world\"}".utf8)
        let field = HTTPMessageSignature.contentDigest(body)
        #expect(field == "sha-256=:X48E9qOokqqrvdts8nOJRJN3OWDUoyWxBf7kbu9DBPE=:")
        #expect(HTTPMessageSignature.digestMatches(field, body: body))
        #expect(!HTTPMessageSignature.digestMatches(field, body: body + [0x20]))
        #expect(!HTTPMessageSignature.digestMatches("sha-512=:WZDPaVn/7XgHaAy8pmojAkGWoRx2UFChF41A2svX+TaPm+AbwAgBWnrIiYllu7BNNyealdVLvRwEmTHWXvJwew==:", body: body))
        #expect(!HTTPMessageSignature.digestMatches("garbage", body: body))
    }
}
