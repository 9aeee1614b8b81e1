import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import HTTPTypes

/// A peer vault whose RFC 9421 signature verified with the witness key the person gave for it.
struct AuthenticatedPeer: Sendable, Equatable {
    /// Its log's origin (the signature's `keyid`).
    var origin: String
    var name: String
}

/// Who signed a call to the share store: a peer vault, or (restoring, `keyid`
/// `owner:<RFC 7638 thumbprint>`) the person whose vault sent shares here.
enum ShareCaller: Sendable, Equatable {
    case peer(AuthenticatedPeer)
    /// The owner's key, and the vaults (origins) whose shares it owns.
    case owner(key: [UInt8], senders: [String])
}

/// Checks the signature of a call from a peer vault (docs/PROTOCOL.md §"Fragments"): the same
/// rules as the organizations' (`SignatureMiddleware`: `created` within ±300 s, a nonce never
/// seen, `@method` and `@path` and the listed fields covered), with `keyid` the sender's log
/// origin and the key the `witnessKey` of the peer the person added with that origin. A bad
/// signature and a vault that is not a peer get one and the same answer.
///
/// Handlers call it themselves (rather than through a middleware and a child context) so the
/// share routes run under any request context, in-process in tests as on the public listener.
struct PeerAuthenticator: Sendable {
    let store: VaultStore
    let nonces: NonceStore
    /// This vault's log origin: every call must be signed for it (`EdgeVault-Holder`).
    let origin: String

    /// Verifies the call's signature (not yet the body: `checkDigest` does, once it is read).
    func authenticate(_ request: Request, covering fields: [String], hasBody: Bool) async throws -> AuthenticatedPeer {
        guard case .peer(let peer) = try await authenticate(request, covering: fields, hasBody: hasBody, allowOwner: false) else { throw Self.refusal }
        return peer
    }

    /// The same checks; with `allowOwner`, a `keyid` `owner:<thumbprint>` is checked against the
    /// owner keys the sending vaults gave with their shares.
    func authenticate(_ request: Request, covering fields: [String], hasBody: Bool, allowOwner: Bool) async throws -> ShareCaller {
        let parts = HTTPMessageSignature.RequestParts(
            method: request.method.rawValue, path: request.uri.path, query: request.uri.query,
            authority: request.head.authority ?? "", headers: request.headers.map { ($0.name.canonicalName, $0.value) })
        let found: HTTPMessageSignature.Found
        do { found = try HTTPMessageSignature.parse(parts) } catch { throw SignatureMiddleware.problem(error) }
        let p = found.parameters
        guard let keyId = p.keyId else { throw Problem(code: .signatureInvalid, detail: "the signature has no keyid parameter (the sending vault's origin)") }
        guard let nonce = p.nonce, !nonce.isEmpty, nonce.utf8.count <= 128 else {
            throw Problem(code: .signatureInvalid, detail: "the signature needs a nonce parameter (1…128 characters)")
        }
        if let alg = p.alg, alg != "ed25519" { throw Problem(code: .signatureInvalid, detail: "alg must be ed25519") }
        var required = ["@method", "@path", PeerShareProtocol.holderHeader] + fields
        if parts.query != nil { required.append("@query") }
        if hasBody { required.append("content-digest") }
        for c in required where !p.components.contains(c) {
            throw Problem(code: .signatureInvalid, detail: "the signature must cover \(required.map { "\"\($0)\"" }.joined(separator: " ")); \(c) is missing")
        }
        guard let holder = request.headers[HTTPField.Name(PeerShareProtocol.holderHeader)!], holder == origin else {
            throw Problem(code: .signatureInvalid, detail: "the call must be signed for this vault: EdgeVault-Holder must be its log origin, \(origin)")
        }
        let now = Timestamp.now() / 1000
        guard abs(p.created - now) <= SignatureMiddleware.window else {
            throw Problem(code: .signatureExpired, detail: "created is \(p.created - now) s from now; it must be within ±\(SignatureMiddleware.window) s (check your clock)")
        }
        if let expires = p.expires, expires < now { throw Problem(code: .signatureExpired, detail: "the signature expired at \(expires)") }
        var key = SignatureMiddleware.dummyKey
        var caller: ShareCaller?
        if allowOwner, keyId.hasPrefix(Self.ownerPrefix) {
            let thumbprint = String(keyId.dropFirst(Self.ownerPrefix.count))
            let owned = try await store.shareOwners().filter { JWKThumbprint.ed25519($0.value) == thumbprint }
            if let raw = owned.first?.value, let k = try? SigningPublicKey(bytes: raw) {
                key = k
                caller = .owner(key: raw, senders: owned.keys.sorted())
            }
        } else if let peer = try await store.peers().first(where: { $0.origin == keyId && $0.witnessKey != nil }),
                  let k = try? CosignatureVerifier(peer.witnessKey!).publicKey {
            key = k
            caller = .peer(AuthenticatedPeer(origin: peer.origin, name: peer.name))
        }
        let base: String
        do { base = try HTTPMessageSignature.signatureBase(parts, parameters: p) } catch { throw SignatureMiddleware.problem(error) }
        // One answer, after the same work, for a bad signature and a caller this vault does not know.
        guard key.isValidSignature(found.signature, for: Array(base.utf8)), let caller else { throw Self.refusal }
        let nonceKey = keyId.hasPrefix(Self.ownerPrefix) ? keyId : "peer:" + keyId
        try await nonces.record(keyId: nonceKey, nonce: nonce, expiresAt: p.created + SignatureMiddleware.window, now: now)
        return caller
    }

    /// Checks the body against the signed `Content-Digest` (RFC 9530).
    func checkDigest(_ request: Request, body: [UInt8]) throws {
        try checkDigest(request, sha256: Hash.sha256(body))
    }

    func checkDigest(_ request: Request, sha256: [UInt8]) throws {
        guard let digest = request.headers[HTTPField.Name("Content-Digest")!], HTTPMessageSignature.digestMatches(digest, sha256: sha256) else {
            throw Problem(code: .digestMismatch, detail: "Content-Digest must carry the sha-256 of the body (RFC 9530)")
        }
    }

    static let ownerPrefix = PeerShareProtocol.ownerKeyIdPrefix

    static let refusal = Problem(code: .signatureInvalid,
                                 detail: "the signature does not verify with the witness key of a peer this vault's person added")
}
