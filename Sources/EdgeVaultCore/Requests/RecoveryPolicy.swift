/// The person's signed record of how their root secret was split into SLIP-0039 shares
/// (docs/PROTOCOL.md §"Key recovery"): how many groups are needed and, for each group, how many
/// of its shares. A JWS in general JSON serialization with exactly one signature, the person's,
/// protected header `{"alg":"Ed25519","kid":<user key id>}`, payload
///
/// ```json
/// {"type":"edgevault.recovery-policy/v1","vault":<origin>,"groupThreshold":2,
///  "groups":[{"threshold":1,"count":1},{"threshold":2,"count":3},{"threshold":2,"count":3}],
///  "passphrase":false,"at":<RFC 3339>}
/// ```
///
/// It never holds a share nor anything derived from one: not the set's identifier either (it is
/// in every share's first words, so recording it would let whoever reads the ledger tell which
/// vault a found sheet of words opens). `passphrase` says whether a SLIP-0039 passphrase was
/// set, so that whoever recovers knows to ask for it.
public enum RecoveryPolicy {
    public static let type = "edgevault.recovery-policy/v1"
    /// SLIP-0039 numbers groups and shares with 4 bits.
    public static let maxCount = 16

    public struct Group: Sendable, Equatable {
        public var threshold: Int
        public var count: Int
        public init(threshold: Int, count: Int) {
            self.threshold = threshold
            self.count = count
        }
    }

    public struct Checked: Sendable, Equatable {
        public var vault: String
        public var groupThreshold: Int
        public var groups: [Group]
        public var passphrase: Bool
        /// Milliseconds since the epoch.
        public var at: Int64
    }

    /// Why `groupThreshold` of `groups` cannot be a SLIP-0039 split, or nil when it can: 1 ≤
    /// group threshold ≤ groups ≤ 16, each group 1 ≤ threshold ≤ count ≤ 16, and a group of
    /// threshold 1 has one share (SLIP-0039 forbids 1-of-n: copy the share instead).
    public static func problem(groupThreshold: Int, groups: [Group]) -> String? {
        guard !groups.isEmpty, groups.count <= maxCount, (1...groups.count).contains(groupThreshold) else {
            return "the group threshold must be 1 to the number of groups (at most \(maxCount)); got \(groupThreshold) of \(groups.count)"
        }
        for (i, g) in groups.enumerated() {
            guard 1 <= g.threshold, g.threshold <= g.count, g.count <= maxCount else {
                return "group \(i + 1) is \(g.threshold) of \(g.count); it must be T of N with 1 ≤ T ≤ N ≤ \(maxCount)"
            }
            guard g.threshold > 1 || g.count == 1 else {
                return "group \(i + 1) is 1 of \(g.count); a group with threshold 1 has one share (give copies of it instead)"
            }
        }
        return nil
    }

    public static func make(vault: String, groupThreshold: Int, groups: [Group], passphrase: Bool, at: Int64, keys: UserKeys) -> JWS {
        let payload: [String: JSONValue] = [
            "type": .string(type), "vault": .string(vault), "groupThreshold": .number(String(groupThreshold)),
            "groups": json(groups), "passphrase": .bool(passphrase), "at": .string(Timestamp.rfc3339(milliseconds: at)),
        ]
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(JWKThumbprint.ed25519(keys.signing.publicKey.bytes))])
        return JWS.sign(payload: JSONValue.object(payload).serialized(), header: header, keyPair: keys.signing)
    }

    /// Checks the person's signature and the payload's form (not freshness nor the vault: the
    /// store does that).
    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        let p = try jws.personSignedPayload(what: "recovery policy", userKeyId: userKeyId, userKey: userKey)
        guard p["type"]?.stringValue == type, let vault = p["vault"]?.stringValue, let atText = p["at"]?.stringValue,
              let threshold = p["groupThreshold"].flatMap(smallInt), case .array(let list)? = p["groups"],
              case .bool(let passphrase)? = p["passphrase"]
        else { throw JWS.Failure("the recovery policy payload needs type \(type), vault, groupThreshold, groups, passphrase and at") }
        let known: Set<String> = ["type", "vault", "groupThreshold", "groups", "passphrase", "at"]
        if let extra = p.keys.first(where: { !known.contains($0) }) { throw JWS.Failure("unknown member \(extra) in the recovery policy") }
        var groups = [Group]()
        for item in list.prefix(maxCount + 1) {
            guard case .object(let g) = item, g.count == 2, let t = g["threshold"].flatMap(smallInt), let c = g["count"].flatMap(smallInt) else {
                throw JWS.Failure("each group of the recovery policy is {\"threshold\":T,\"count\":N}")
            }
            groups.append(Group(threshold: t, count: c))
        }
        if let problem = problem(groupThreshold: threshold, groups: groups) { throw JWS.Failure(problem) }
        guard let at = Timestamp.parseRFC3339(atText) else { throw JWS.Failure("at must be an RFC 3339 time") }
        return Checked(vault: vault, groupThreshold: threshold, groups: groups, passphrase: passphrase, at: at)
    }

    /// `[{"threshold":T,"count":N}, …]`, as in the document and the leaf.
    public static func json(_ groups: [Group]) -> JSONValue {
        .array(groups.map { .object(["threshold": .number(String($0.threshold)), "count": .number(String($0.count))]) })
    }

    /// A JSON number that is a small non-negative integer written plainly (no sign, fraction
    /// or exponent), else nil.
    static func smallInt(_ value: JSONValue) -> Int? {
        guard let text = value.numberText, text.count <= 3, text.allSatisfy(\.isASCII), text.allSatisfy(\.isNumber) else { return nil }
        return Int(text)
    }
}
