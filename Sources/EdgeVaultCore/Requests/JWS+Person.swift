/// Documents only the person signs (trust and peer changes, the recovery policy): one
/// signature, Ed25519, under the vault's user key id (docs/PROTOCOL.md §"Trust changes").
extension JWS {
    /// The payload object of a document only the person signs, after checking it carries exactly
    /// one signature, Ed25519 under the vault's user key id, that verifies.
    /// - Parameter what: how messages name the document ("recovery policy").
    public func personSignedPayload(what: String, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> [String: JSONValue] {
        guard signatures.count == 1, let s = signatures.first else {
            throw JWS.Failure("a \(what) carries exactly one signature, the person's")
        }
        guard s.header["alg"]?.stringValue == "Ed25519", s.header["kid"]?.stringValue == userKeyId else {
            throw JWS.Failure("a \(what) must be signed by the vault's user key (alg Ed25519, kid \(userKeyId))")
        }
        guard userKey.isValidSignature(s.signature, for: signingInput(s)) else {
            throw JWS.Failure("the \(what)'s signature does not verify with the vault's user key")
        }
        guard case .object(let p)? = try? JSONValue.parse(payload) else { throw JWS.Failure("the \(what) payload is not a JSON object") }
        return p
    }
}
