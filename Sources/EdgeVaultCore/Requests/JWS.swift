/// JWS in General JSON Serialization (RFC 7515 §7.2.1) with `alg` `Ed25519` (RFC 9864).
///
/// The payload keeps its exact bytes: a grant is the same JWS with the person's signature
/// appended, and both signatures cover the same payload.
public struct JWS: Sendable, Equatable {
    public struct Signature: Sendable, Equatable {
        /// The protected header, base64url as sent (the signing input uses these exact characters).
        public var protected: String
        public var signature: [UInt8]
        /// The decoded protected header.
        public var header: JSONValue

        package init(protected: String, signature: [UInt8], header: JSONValue) {
            self.protected = protected
            self.signature = signature
            self.header = header
        }
    }

    public static let maxBytes = 64 * 1024

    public var payloadB64: String
    public var payload: [UInt8]
    public var signatures: [Signature]

    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public let detail: String
        /// The JWS uses a JOSE feature this vault does not accept (`crit`, an unprotected
        /// header), rather than being malformed.
        public let isUnsupported: Bool
        public var description: String { detail }
        package init(_ d: String, unsupported: Bool = false) {
            detail = d
            isUnsupported = unsupported
        }
    }

    /// Parses the general JSON serialization (a flattened one is refused: a grant needs several signatures).
    public init(json bytes: [UInt8]) throws(Failure) {
        guard bytes.count <= Self.maxBytes else { throw Failure("the JWS is larger than 64 KiB") }
        let doc: JSONValue
        do { doc = try JSONValue.parse(bytes) } catch { throw Failure("the body is not JSON: \(error.reason)") }
        guard case .object(let o) = doc, let payloadB64 = o["payload"]?.stringValue else {
            throw Failure("expected a JWS in general JSON serialization: {\"payload\",\"signatures\":[…]}")
        }
        guard case .array(let sigs)? = o["signatures"], !sigs.isEmpty, sigs.count <= 4 else {
            throw Failure("signatures must be a non-empty array (general JSON serialization)")
        }
        var parsed: [Signature] = []
        for s in sigs {
            guard case .object(let so) = s, let prot = so["protected"]?.stringValue, let sigText = so["signature"]?.stringValue,
                  let protBytes = Encoding.fromBase64url(prot), let sig = Encoding.fromBase64url(sigText)
            else { throw Failure("each signature needs base64url protected and signature members") }
            let header: JSONValue
            do { header = try JSONValue.parse(protBytes) } catch { throw Failure("a protected header is not JSON") }
            guard case .object = header else { throw Failure("a protected header must be a JSON object") }
            // One rule for every JWS this vault reads (requests, decisions, revocations, trust
            // changes, key upgrades, grants): RFC 7515 §4.1.11 — a recipient refuses "crit"
            // naming extensions it does not understand, and it understands none (b64:false
            // included); and every header parameter is protected (an unprotected "header"
            // could repeat alg, kid or jwk with other values, §7.2.1 wants them disjoint).
            if let c = header["crit"] ?? so["header"]?["crit"] {
                var names = [String(decoding: c.serialized(), as: UTF8.self)]
                if case .array(let list) = c { names = list.map { $0.stringValue ?? String(decoding: $0.serialized(), as: UTF8.self) } }
                throw Failure("the JWS header has \"crit\" (\(names.joined(separator: ", "))); this vault understands no JWS extensions (RFC 7515 §4.1.11)",
                              unsupported: true)
            }
            if so["header"] != nil {
                throw Failure("a JWS signature with an unprotected \"header\" is not accepted: every header parameter must be in \"protected\"",
                              unsupported: true)
            }
            parsed.append(Signature(protected: prot, signature: sig, header: header))
        }
        guard let payload = Encoding.fromBase64url(payloadB64) else { throw Failure("payload is not base64url") }
        self.payloadB64 = payloadB64
        self.payload = payload
        self.signatures = parsed
    }

    init(payload: [UInt8], signatures: [Signature]) {
        self.payload = payload
        self.payloadB64 = Encoding.base64url(payload)
        self.signatures = signatures
    }

    /// The JWS signing input of a signature: `ASCII(protected) . ASCII(payload)`.
    public func signingInput(_ s: Signature) -> [UInt8] {
        Array((s.protected + "." + payloadB64).utf8)
    }

    /// A new JWS with one signature over `payload` by `keyPair` with `header`.
    public static func sign(payload: [UInt8], header: JSONValue, keyPair: SigningKeyPair) -> JWS {
        var jws = JWS(payload: payload, signatures: [])
        jws.appendSignature(header: header, keyPair: keyPair)
        return jws
    }

    /// Adds a signature over the same payload (how the person co-signs a request).
    public mutating func appendSignature(header: JSONValue, keyPair: SigningKeyPair) {
        let prot = Encoding.base64url(header.serialized())
        let sig = keyPair.sign(Array((prot + "." + payloadB64).utf8))
        signatures.append(Signature(protected: prot, signature: sig, header: header))
    }

    /// Checks that the JWS carries exactly one signature and that it is the person's: alg
    /// Ed25519, kid the vault's user key id, verifying with the user key. Every document only
    /// the person may sign (revocations, trust, retention and key changes) is checked here.
    public func verifyPersonSignature(userKeyId: String, userKey: SigningPublicKey, document: String) throws(Failure) {
        guard signatures.count == 1, let s = signatures.first, s.header["alg"]?.stringValue == "Ed25519",
              s.header["kid"]?.stringValue == userKeyId, userKey.isValidSignature(s.signature, for: signingInput(s))
        else { throw Failure("\(document) carries exactly one signature, the person's (alg Ed25519, kid \(userKeyId)), and it must verify") }
    }

    /// Compact JSON text of the general serialization.
    public func serialized() -> [UInt8] {
        let sigs: [JSONValue] = signatures.map { .object(["protected": .string($0.protected), "signature": .string(Encoding.base64url($0.signature))]) }
        return JSONValue.object(["payload": .string(payloadB64), "signatures": .array(sigs)]).serialized()
    }

    /// The Ed25519 key of an organization's signature header: `{"alg":"Ed25519","kid":…,"jwk":{…}}`
    /// with `kid` equal to the JWK's RFC 7638 thumbprint. Checks the signature too.
    public func verifyOrgSignature(_ s: Signature) throws(Failure) -> (keyId: String, publicKey: SigningPublicKey) {
        guard s.header["alg"]?.stringValue == "Ed25519" else { throw Failure("the signature's alg must be \"Ed25519\"") }
        guard let kid = s.header["kid"]?.stringValue else { throw Failure("the signature's protected header has no kid") }
        guard case .object(let jwk)? = s.header["jwk"], jwk["kty"]?.stringValue == "OKP", jwk["crv"]?.stringValue == "Ed25519",
              let x = jwk["x"]?.stringValue, let raw = Encoding.fromBase64url(x), let key = try? SigningPublicKey(bytes: raw)
        else { throw Failure("the protected header's jwk must be an Ed25519 OKP public key") }
        guard JWKThumbprint.ed25519(raw) == kid else { throw Failure("kid is not the RFC 7638 thumbprint of jwk") }
        guard key.isValidSignature(s.signature, for: signingInput(s)) else { throw Failure("the JWS signature does not verify") }
        return (kid, key)
    }

    /// The protected header an organization signs with.
    public static func orgHeader(publicKey: [UInt8]) -> JSONValue {
        .object([
            "alg": .string("Ed25519"), "kid": .string(JWKThumbprint.ed25519(publicKey)),
            "jwk": .object(JWKThumbprint.ed25519Members(publicKey).mapValues { JSONValue.string($0) }),
        ])
    }
}
