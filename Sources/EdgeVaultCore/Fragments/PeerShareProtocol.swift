/// The share store between peers (docs/PROTOCOL.md §"Fragments"): the paths, headers and
/// storage-index rule that the sending vault and the holding peer share, so they cannot drift.
public enum PeerShareProtocol {
    /// The set's `k` (shares needed to decode), on `PUT`.
    public static let kHeader = "edgevault-share-k"
    /// The set's `n` (shares in all), on `PUT`.
    public static let nHeader = "edgevault-share-n"
    /// The set's size in bytes (the ciphertext the shares encode), on `PUT`.
    public static let sizeHeader = "edgevault-set-size"
    /// The person's Ed25519 key (base64url) on `PUT`: who may fetch the shares to restore.
    public static let ownerHeader = "edgevault-owner-key"
    /// The holder's log origin, on every call: a signed call is good at that one holder only,
    /// so neither a peer nor a listing peer can replay it to another (docs/PROTOCOL.md §"Fragments").
    public static let holderHeader = "edgevault-holder"
    /// The `keyid` of a call signed by the person (restoring): this prefix and the RFC 7638
    /// thumbprint of their key.
    public static let ownerKeyIdPrefix = "owner:"
    /// `/v1/peer/sets`: the `fragments.placed` leaves of the sets a vault holds shares of.
    public static let setsPath = "/v1/peer/sets"
    /// `/v1/peer/recovery-share`: a SLIP-0039 share sealed to the holder (docs/PROTOCOL.md §"Key recovery").
    public static let recoverySharePath = "/v1/peer/recovery-share"

    /// A non-negative decimal of 1…18 ASCII digits and nothing else (no sign, no spaces), as
    /// every number in a share call's path, headers and query must be.
    public static func decimal(_ text: some StringProtocol) -> Int? {
        guard (1...18).contains(text.utf8.count), text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
        return Int(text)
    }

    /// Every share is `ceil(size / k)` bytes (computed without overflow for any size).
    public static func shareLength(size: Int, k: Int) -> Int { k > 0 && size > 0 ? (size - 1) / k + 1 : 0 }

    /// The first characters of every storage index a vault names: 16 lowercase hex digits of
    /// SHA-256(its log's origin). A peer takes from a vault only indexes that begin with its own
    /// prefix, so one peer's vault can never overwrite, read or audit another's shares.
    public static func senderPrefix(origin: String) -> String {
        String(Encoding.hex(Hash.sha256(Array(origin.utf8))).prefix(16))
    }

    /// A new storage index for a vault: `<prefix>-<32 random hex digits>`.
    public static func newStorageIndex(origin: String) -> String {
        senderPrefix(origin: origin) + "-" + Encoding.hex(Sodium.randomBytes(16))
    }

    /// Whether `index` has the form of a storage index (prefix, dash, 1…64 hex digits).
    public static func isWellFormed(_ index: String) -> Bool {
        let parts = index.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts[0].utf8.count == 16, (1...64).contains(parts[1].utf8.count) else { return false }
        return index.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) || $0 == 0x2D }
    }

    /// `/v1/peer/shares/{storageIndex}/{n}`.
    public static func path(storageIndex: String, n: Int) -> String { "/v1/peer/shares/\(storageIndex)/\(n)" }

    /// The answer to an audit: SHA-256(nonce ‖ share).
    public static func auditProof(nonce: [UInt8], share: [UInt8]) -> [UInt8] {
        var hasher = SHA256Hasher()
        hasher.update(nonce)
        hasher.update(share)
        return hasher.finalize()
    }

    /// The headers of a signed peer call (RFC 9421, `ed25519`): `Signature-Input` and
    /// `Signature` over `@method`, `@path`, `edgevault-holder`, the share headers present and `content-digest`
    /// (on every call but a `GET`, even with an empty body), with `keyid` the sender's log origin and a fresh nonce. The key
    /// is the sender's witness key (the peer knows its verifier key from `peer add`).
    /// `bodySha256`, when given, is the body's SHA-256 already computed (not hashed again).
    public static func signedHeaders(method: String, path: String, authority: String, holder: String, headers: [(String, String)], body: [UInt8],
                                     bodySha256: [UInt8]? = nil, origin keyId: String, keyPair: SigningKeyPair,
                                     now: Int64 = Timestamp.now() / 1000) throws -> [(String, String)] {
        var all = [("EdgeVault-Holder", holder)] + headers
        var components = ["@method", "@path", holderHeader]
        components += headers.map { $0.0.lowercased() }
        if !body.isEmpty || method != "GET" {
            all.append(("Content-Digest", bodySha256.map { HTTPMessageSignature.contentDigest(sha256: $0) } ?? HTTPMessageSignature.contentDigest(body)))
            components.append("content-digest")
        }
        // A query (`?after=…` of a listing) is signed as `@query`.
        let pieces = path.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        let query = pieces.count == 2 ? String(pieces[1]) : nil
        if query != nil { components.append("@query") }
        let parts = HTTPMessageSignature.RequestParts(method: method, path: String(pieces[0]), query: query, authority: authority, headers: all)
        let parameters = HTTPMessageSignature.Parameters(components: components, created: now, nonce: Encoding.base64url(Sodium.randomBytes(16)),
                                                         keyId: keyId, alg: "ed25519")
        let (input, signature) = try HTTPMessageSignature.sign(parts, parameters: parameters, keyPair: keyPair)
        return all + [("Signature-Input", input), ("Signature", signature)]
    }
}
