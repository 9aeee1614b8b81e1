/// The person's signed change to the vault's peers (docs/PROTOCOL.md §"Peers"): add an
/// EdgeVault peer (its log is witnessed here, its witness cosigns this vault's checkpoints),
/// add a log to witness only (`vault-cli witness add-log`), or remove either. A JWS in general
/// JSON serialization with exactly one signature, the person's, protected header
/// `{"alg":"Ed25519","kid":<user key id>}`, payload
///
/// ```json
/// {"type":"edgevault.peer/v1","vault":<origin>,"action":"add"|"remove","name":<the person's name>,
///  "logKey":<signed-note vkey>,"witnessKey":<cosignature vkey>,"url":<https or http URL>,"at":<RFC 3339>}
/// ```
///
/// `logKey` is required for `add`; `witnessKey` and `url` come together (an EdgeVault peer) or
/// not at all (a log witnessed only); a removal names only the peer. Only a holder of the
/// person's key can make one: a process on the admin socket cannot add a witness that would
/// vouch for a forked log, nor silently drop one.
public enum PeerChange {
    public static let type = "edgevault.peer/v1"
    /// The longest peer URL accepted.
    public static let maxURLBytes = 512

    public enum Action: String, Sendable, CaseIterable {
        case add, remove
    }

    public struct Checked: Sendable, Equatable {
        public var vault: String
        public var action: Action
        public var name: String
        public var logKey: String?
        public var witnessKey: String?
        public var url: String?
        /// Milliseconds since the epoch.
        public var at: Int64

        /// The witnessed log's origin: the log key's name.
        public var origin: String? { logKey.flatMap { try? SignedNote.Verifier($0).name } }
    }

    public static func make(vault: String, action: Action, name: String, logKey: String?, witnessKey: String?, url: String?,
                            at: Int64, keys: UserKeys) -> JWS {
        var payload: [String: JSONValue] = [
            "type": .string(type), "vault": .string(vault), "action": .string(action.rawValue), "name": .string(name),
            "at": .string(Timestamp.rfc3339(milliseconds: at)),
        ]
        if let logKey { payload["logKey"] = .string(logKey) }
        if let witnessKey { payload["witnessKey"] = .string(witnessKey) }
        if let url { payload["url"] = .string(url) }
        let header = JSONValue.object(["alg": .string("Ed25519"), "kid": .string(JWKThumbprint.ed25519(keys.signing.publicKey.bytes))])
        return JWS.sign(payload: JSONValue.object(payload).serialized(), header: header, keyPair: keys.signing)
    }

    /// Checks the person's signature and the payload's form (not freshness nor whether it
    /// applies: the store does that against what it recorded).
    public static func check(_ jws: JWS, userKeyId: String, userKey: SigningPublicKey) throws(JWS.Failure) -> Checked {
        let p = try jws.personSignedPayload(what: "peer change", userKeyId: userKeyId, userKey: userKey)
        guard p["type"]?.stringValue == type,
              let vault = p["vault"]?.stringValue, let actionText = p["action"]?.stringValue,
              let name = p["name"]?.stringValue, let atText = p["at"]?.stringValue
        else { throw JWS.Failure("the peer change payload needs type \(type), vault, action, name and at") }
        let known: Set<String> = ["type", "vault", "action", "name", "logKey", "witnessKey", "url", "at"]
        if let extra = p.keys.first(where: { !known.contains($0) }) { throw JWS.Failure("unknown member \(extra) in the peer change") }
        guard let action = Action(rawValue: actionText) else { throw JWS.Failure("action must be add or remove") }
        if let problem = TrustChange.nameProblem(name) { throw JWS.Failure(problem) }
        guard let at = Timestamp.parseRFC3339(atText) else { throw JWS.Failure("at must be an RFC 3339 time") }
        let logKey = p["logKey"]?.stringValue, witnessKey = p["witnessKey"]?.stringValue, url = p["url"]?.stringValue
        switch action {
        case .remove:
            guard logKey == nil, witnessKey == nil, url == nil else { throw JWS.Failure("a removal names only the peer") }
        case .add:
            guard let logKey else { throw JWS.Failure("an addition needs logKey, the log's verifier key") }
            if let problem = logKeyProblem(logKey) { throw JWS.Failure(problem) }
            guard (witnessKey == nil) == (url == nil) else {
                throw JWS.Failure("witnessKey and url come together (an EdgeVault peer) or not at all (a log witnessed only)")
            }
            if let witnessKey, let problem = witnessKeyProblem(witnessKey) { throw JWS.Failure(problem) }
            if let url, let problem = urlProblem(url) { throw JWS.Failure(problem) }
        }
        return Checked(vault: vault, action: action, name: name, logKey: logKey, witnessKey: witnessKey, url: url, at: at)
    }

    /// Why `key` cannot be a witnessed log's key, or nil when it can: a C2SP signed-note
    /// Ed25519 verifier key whose name, the log's origin, is printable text.
    public static func logKeyProblem(_ key: String) -> String? {
        guard key.utf8.count <= 1024, let v = try? SignedNote.Verifier(key) else {
            return "the log key is not a C2SP Ed25519 verifier key (<origin>+<hash>+<base64>)"
        }
        return originProblem(v.name)
    }

    /// Why `key` cannot be a witness's key, or nil when it can: a C2SP cosignature/v1 verifier key.
    public static func witnessKeyProblem(_ key: String) -> String? {
        guard key.utf8.count <= 1024, let v = try? CosignatureVerifier(key) else {
            return "the witness key is not a C2SP cosignature/v1 verifier key (<name>+<hash>+<base64 of 0x04 and the key>)"
        }
        return originProblem(v.name)
    }

    /// Origins and key names are shown on the person's terminal: printable ASCII, no spaces.
    public static func originProblem(_ name: String) -> String? {
        guard !name.isEmpty, name.utf8.count <= 255, name.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2B }) else {
            return "a key name must be 1…255 printable ASCII characters without spaces or +"
        }
        return nil
    }

    /// Why `url` cannot be a peer's public URL, or nil when it can: http or https, a host,
    /// printable ASCII, no query or fragment, at most `maxURLBytes`.
    public static func urlProblem(_ url: String) -> String? {
        guard url.utf8.count <= maxURLBytes, url.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }),
              url.hasPrefix("https://") || url.hasPrefix("http://"), !url.contains("?"), !url.contains("#")
        else { return "the peer URL must be an http:// or https:// URL of printable ASCII, without query or fragment, at most \(maxURLBytes) bytes" }
        let rest = url.drop(while: { $0 != "/" }).dropFirst(2)
        guard let host = rest.split(separator: "/", omittingEmptySubsequences: false).first, !host.isEmpty, !host.contains("@") else {
            return "the peer URL needs a host (and no user name)"
        }
        return nil
    }
}
