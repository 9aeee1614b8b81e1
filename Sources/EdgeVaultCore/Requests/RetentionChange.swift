/// The person's signed change to how long a stream's data is kept (docs/PROTOCOL.md
/// §"Retention changes"): a JWS with exactly one signature, the person's, protected header
/// `{"alg":"Ed25519","kid":<user key id>}`, payload
///
/// ```json
/// {"type":"edgevault.retention/v1","vault":<origin>,"stream":<name>,
///  "retentionSeconds":<seconds, or null: forever>,"at":<RFC 3339>}
/// ```
///
/// Retention deletes data nobody can bring back, so like every other decision about the
/// person's data it needs their signature: a process that merely reaches the admin socket
/// cannot shorten it.
public enum RetentionChange {
    public static let type = "edgevault.retention/v1"

    public struct Checked: Sendable, Equatable {
        public var vault: String
        public var stream: String
        public var retentionSeconds: Int64?
        /// Milliseconds since the epoch.
        public var at: Int64
    }

    public static func make(vault: String, stream: String, retentionSeconds: Int64?, at: Int64, keys: UserKeys) -> JWS {
        let payload = JSONValue.object([
            "type": .string(type), "vault": .string(vault), "stream": .string(stream),
            "retentionSeconds": retentionSeconds.map { .number("\($0)") } ?? .null, "at": .string(Timestamp.rfc3339(milliseconds: at)),
        ])
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(keys.publicKeys.keyId)])
        return JWS.sign(payload: payload.serialized(), header: header, keyPair: keys.signing)
    }

    /// Checks the person's signature and the payload's form (its freshness and whether the
    /// stream exists are the store's to check).
    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        try jws.verifyPersonSignature(userKeyId: userKeyId, userKey: userKey, document: "a retention change")
        guard case .object(let p)? = try? JSONValue.parse(jws.payload), p["type"]?.stringValue == type,
              let vault = p["vault"]?.stringValue, let stream = p["stream"]?.stringValue, let atText = p["at"]?.stringValue,
              let at = Timestamp.parseRFC3339(atText), let r = p["retentionSeconds"]
        else { throw JWS.Failure("the retention change payload needs type \(type), vault, stream, retentionSeconds and at") }
        var seconds: Int64?
        switch r {
        case .null: seconds = nil
        default:
            guard let n = r.numberText.flatMap({ Int64($0) }), n > 0 else { throw JWS.Failure("retentionSeconds must be a positive number of seconds or null") }
            seconds = n
        }
        return Checked(vault: vault, stream: stream, retentionSeconds: seconds, at: at)
    }
}
