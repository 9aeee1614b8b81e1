/// The person's decision on a request: the org's JWS with the person's signature appended
/// (docs/PROTOCOL.md §"The person's decision"): protected header `{"alg":"Ed25519","kid":<user key id>,"decision":"grant"|"deny","iat":<unix s>}`
/// and, for a denial, an optional `reason`; for a grant, `segments`: how many segment keys the
/// person re-sealed to the organization (docs/PROTOCOL.md §"Decisions").
public enum Decision {
    public enum Kind: String, Sendable { case grant, deny }

    public static func header(kind: Kind, userKeyId: String, iat: Int64, reason: String? = nil, segments: Int? = nil) -> JSONValue {
        var h: [String: JSONValue] = [
            "alg": .string("Ed25519"), "kid": .string(userKeyId), "decision": .string(kind.rawValue), "iat": .number("\(iat)"),
        ]
        if let reason, !reason.isEmpty { h["reason"] = .string(reason) }
        if let segments { h["segments"] = .number("\(segments)") }
        return .object(h)
    }

    /// What a checked decision says.
    public struct Checked: Sendable {
        public var kind: Kind
        public var reason: String?
        public var iat: Int64
        /// For a grant: the number of segment keys the person signed for re-sealing.
        public var segments: Int?
    }

    /// Checks a co-signed JWS against the stored request JWS and the person's key: same payload
    /// bytes, the organization's signature unchanged and valid, exactly one more signature, by
    /// the person, with a decision.
    public static func check(_ decided: JWS, stored: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        guard decided.payloadB64 == stored.payloadB64, decided.payload == stored.payload else {
            throw JWS.Failure("the decision's payload is not byte-identical to the request")
        }
        guard decided.signatures.count == 2, stored.signatures.count == 1 else {
            throw JWS.Failure("a decision carries exactly two signatures: the organization's, then the person's")
        }
        let org = decided.signatures[0]
        guard org.protected == stored.signatures[0].protected, org.signature == stored.signatures[0].signature else {
            throw JWS.Failure("the organization's signature differs from the stored request's")
        }
        _ = try decided.verifyOrgSignature(org)
        let person = decided.signatures[1]
        guard person.header["alg"]?.stringValue == "Ed25519", person.header["kid"]?.stringValue == userKeyId else {
            throw JWS.Failure("the second signature must be the person's (alg Ed25519, kid \(userKeyId))")
        }
        guard let kindText = person.header["decision"]?.stringValue, let kind = Kind(rawValue: kindText) else {
            throw JWS.Failure("the person's header needs decision \"grant\" or \"deny\"")
        }
        guard let iatText = person.header["iat"]?.numberText, let iat = Int64(iatText) else {
            throw JWS.Failure("the person's header needs iat (unix seconds)")
        }
        guard userKey.isValidSignature(person.signature, for: decided.signingInput(person)) else {
            throw JWS.Failure("the person's signature does not verify with the vault's user key")
        }
        var segments: Int?
        if let s = person.header["segments"] {
            guard let n = s.numberText.flatMap({ Int($0) }), n >= 0 else { throw JWS.Failure("segments in the person's header must be a count") }
            segments = n
        }
        return Checked(kind: kind, reason: person.header["reason"]?.stringValue, iat: iat, segments: segments)
    }
}
