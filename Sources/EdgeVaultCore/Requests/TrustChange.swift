/// The person's signed change to how the vault treats an organization: pin it (with the
/// person's name for it, or a new name: a rename), block it, unblock it (docs/PROTOCOL.md
/// §"Trust changes"). Like a revocation, a JWS in general JSON serialization with exactly one
/// signature, the person's, protected header `{"alg":"Ed25519","kid":<user key id>}`, payload
///
/// ```json
/// {"type":"edgevault.trust/v1","vault":<origin>,"org":<organization key id>,
///  "action":"pin"|"block"|"unblock","name":<the person's name for it, pin only>,"at":<RFC 3339>}
/// ```
///
/// Only a holder of the person's key can make one, so a process that merely reaches the admin
/// socket cannot pin a hostile key under a trusted name nor cut off a genuine organization.
public enum TrustChange {
    public static let type = "edgevault.trust/v1"
    /// How far `at` may be from the daemon's clock (either way): a change signed earlier and
    /// kept back is refused once this passes (docs/PROTOCOL.md §"Trust changes").
    public static let maxSkewMilliseconds: Int64 = 5 * 60 * 1000
    /// How far ahead of the daemon's clock `at` may be.
    public static let maxAheadMilliseconds: Int64 = 60 * 1000

    /// Whether a change the person signed at `at` may be applied at `now` (trust and retention
    /// changes alike): at most 5 minutes old (a slow hand), at most a minute ahead (a change
    /// dated in the future would make the person's next real change look stale until then).
    public static func isFresh(at: Int64, now: Int64) -> Bool {
        at <= now + maxAheadMilliseconds && now - at <= maxSkewMilliseconds
    }
    /// With `keepArrivals`, how long before `at` a request left pending may have arrived (the
    /// CLI lists the pending requests right before it signs).
    public static let keepArrivalsMilliseconds: Int64 = 10 * 1000

    public enum Action: String, Sendable, CaseIterable {
        case pin, block, unblock
    }

    /// What a checked change says.
    public struct Checked: Sendable, Equatable {
        public var vault: String
        public var org: String
        public var action: Action
        public var name: String?
        /// Milliseconds since the epoch.
        public var at: Int64
    }

    public static func make(vault: String, org: String, action: Action, name: String?, at: Int64, keys: UserKeys) -> JWS {
        make(vault: vault, org: org, action: action, name: name, at: at, signing: keys.signing)
    }

    static func make(vault: String, org: String, action: Action, name: String?, at: Int64, signing: SigningKeyPair) -> JWS {
        var payload: [String: JSONValue] = [
            "type": .string(type), "vault": .string(vault), "org": .string(org), "action": .string(action.rawValue),
            "at": .string(Timestamp.rfc3339(milliseconds: at)),
        ]
        if let name { payload["name"] = .string(name) }
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(JWKThumbprint.ed25519(signing.publicKey.bytes))])
        return JWS.sign(payload: JSONValue.object(payload).serialized(), header: header, keyPair: signing)
    }

    /// Checks the person's signature and the payload's form (not its freshness nor whether it
    /// applies: the store does that against what it recorded).
    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        let p = try jws.personSignedPayload(what: "trust change", userKeyId: userKeyId, userKey: userKey)
        guard p["type"]?.stringValue == type,
              let vault = p["vault"]?.stringValue, let org = p["org"]?.stringValue,
              let actionText = p["action"]?.stringValue, let atText = p["at"]?.stringValue
        else { throw JWS.Failure("the trust change payload needs type \(type), vault, org, action and at") }
        guard let action = Action(rawValue: actionText) else { throw JWS.Failure("action must be pin, block or unblock") }
        guard Encoding.fromBase64url(org)?.count == 32, org.count == 43 else {
            throw JWS.Failure("org must be an organization key id (a 43-character RFC 7638 thumbprint)")
        }
        guard let at = Timestamp.parseRFC3339(atText) else { throw JWS.Failure("at must be an RFC 3339 time") }
        var name: String?
        switch (action, p["name"]) {
        case (.pin, .string(let n)?):
            if let problem = nameProblem(n) { throw JWS.Failure(problem) }
            name = n
        case (.pin, _): throw JWS.Failure("a pin names the organization: name (1…\(UntrustedText.Limits.name.maxGraphemes) characters)")
        case (_, nil): break
        case (_, _?): throw JWS.Failure("only a pin carries a name")
        }
        return Checked(vault: vault, org: org, action: action, name: name, at: at)
    }

    /// Why `name` cannot be the person's name for an organization, or nil when it can: the
    /// rules of an organization's own name (`UntrustedText`, docs/PROTOCOL.md §"Text from
    /// organizations": it is shown on the same screens), and no leading or trailing space.
    public static func nameProblem(_ name: String) -> String? {
        if let problem = UntrustedText.problem(with: name, field: "the name", limits: .name) { return problem }
        guard name.first?.isWhitespace == false, name.last?.isWhitespace == false else {
            return "the name must not start or end with a space"
        }
        return nil
    }
}
