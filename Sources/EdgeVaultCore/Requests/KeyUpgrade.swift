/// The person's upgrade of segment keys sealed in the earlier unbound format (docs/PROTOCOL.md
/// §"Segment keys sealed to the person"): a JWS signed by the person with payload
/// `{"type":"edgevault.key-upgrade/v1","keys":[{"segment":<id>,"sealedKey":<base64>}…],"at":<RFC 3339>}`.
/// The daemon replaces only keys that are still unbound, so a process on the gateway can neither
/// forge an upgrade nor use one to overwrite a bound key.
public enum KeyUpgrade {
    public static let type = "edgevault.key-upgrade/v1"
    /// Keys per document (and per call): about 200 KiB of JSON.
    public static let maxKeys = 1000

    public static func make(keys: [(segment: String, sealedKey: [UInt8])], at: Int64, userKeys: UserKeys) -> JWS {
        let payload = JSONValue.object([
            "type": .string(type), "at": .string(Timestamp.rfc3339(milliseconds: at)),
            "keys": .array(keys.map { .object(["segment": .string($0.segment), "sealedKey": .string(Encoding.base64($0.sealedKey))]) }),
        ])
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(userKeys.publicKeys.keyId)])
        return JWS.sign(payload: payload.serialized(), header: header, keyPair: userKeys.signing)
    }

    /// Checks the person's signature and the payload; returns the keys.
    /// How far `at` may be from the daemon's clock: a captured document cannot be replayed later.
    public static let window: Int64 = 300_000

    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey, now: Int64) throws(JWS.Failure) -> [(segment: String, sealedKey: [UInt8])] {
        try jws.verifyPersonSignature(userKeyId: userKeyId, userKey: userKey, document: "a key upgrade")
        guard case .object(let p)? = try? JSONValue.parse(jws.payload), p["type"]?.stringValue == type, p["at"]?.stringValue != nil,
              case .array(let list)? = p["keys"], !list.isEmpty, list.count <= maxKeys
        else { throw JWS.Failure("the key upgrade payload needs type \(type), at and 1…\(maxKeys) keys") }
        guard let at = p["at"]?.stringValue.flatMap(Timestamp.parseRFC3339), abs(at - now) <= window else {
            throw JWS.Failure("the key upgrade was signed more than 5 minutes from now (check the clocks); sign it again")
        }
        var out: [(segment: String, sealedKey: [UInt8])] = []
        for item in list {
            guard let segment = item["segment"]?.stringValue, let key = item["sealedKey"]?.stringValue.flatMap(Encoding.fromBase64),
                  key.count > SegmentKeySeal.unboundSealedLength, key.count <= 2048
            else { throw JWS.Failure("each upgraded key needs a segment and a bound sealedKey") }
            out.append((segment, key))
        }
        return out
    }
}
