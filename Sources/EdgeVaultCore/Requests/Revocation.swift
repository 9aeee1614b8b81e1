/// The person's revocation (docs/PROTOCOL.md §"Revocation"): a JWS signed by the person with payload
/// `{"type":"edgevault.revocation/v1","grant":<grant id>,"org":<organization key id>,"reason":…,"at":…}`.
/// (`org` is EdgeVault's addition: grant ids are unique per organization.)
public enum Revocation {
    public static let type = "edgevault.revocation/v1"

    public static func make(grant: String, org: String, reason: String?, at: Int64, keys: UserKeys) -> JWS {
        var payload: [String: JSONValue] = [
            "type": .string(type), "grant": .string(grant), "org": .string(org), "at": .string(Timestamp.rfc3339(milliseconds: at)),
        ]
        if let reason, !reason.isEmpty { payload["reason"] = .string(reason) }
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(keys.publicKeys.keyId)])
        return JWS.sign(payload: JSONValue.object(payload).serialized(), header: header, keyPair: keys.signing)
    }

    public struct Checked: Sendable {
        public var grant: String
        public var org: String
        public var reason: String?
    }

    /// Checks the person's signature and the payload.
    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        try jws.verifyPersonSignature(userKeyId: userKeyId, userKey: userKey, document: "a revocation")
        guard case .object(let p)? = try? JSONValue.parse(jws.payload), p["type"]?.stringValue == type,
              let grant = p["grant"]?.stringValue, let org = p["org"]?.stringValue, p["at"]?.stringValue != nil
        else { throw JWS.Failure("the revocation payload needs type \(type), grant, org and at") }
        return Checked(grant: grant, org: org, reason: p["reason"]?.stringValue)
    }
}
