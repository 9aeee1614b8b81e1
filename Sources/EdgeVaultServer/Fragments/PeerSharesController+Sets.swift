import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore

/// The deposits a holder keeps beside the shares (docs/PROTOCOL.md §"Fragments", "Deposits"),
/// so that the person can find their sets from any one peer when the gateway is gone.
extension PeerSharesController {
    /// One page of deposits: `{"sets": [...], "next": <cursor>}` (`next` absent on the last page).
    struct Deposits: ResponseGenerator {
        var deposits: [[UInt8]]
        var next: Int64?

        func response(from request: Request, context: some RequestContext) throws -> Response {
            var body = Array("{\"sets\":[".utf8)
            for (i, d) in deposits.enumerated() {
                if i > 0 { body.append(0x2C) }
                body += d
            }
            body += Array("]".utf8) + (next.map { Array(",\"next\":\($0)".utf8) } ?? []) + Array("}".utf8)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
        }
    }

    /// A small signed body: at most `limit` bytes (413 beyond), matching its `Content-Digest`.
    static func body(_ request: Request, upTo limit: Int, what: String, authenticator: PeerAuthenticator) async throws -> [UInt8] {
        let body: [UInt8]
        do {
            body = Array(try await request.body.collect(upTo: limit).readableBytesView)
        } catch is NIOTooManyBytesError {
            throw Problem(code: .tooLarge, detail: "\(what) is at most \(limit) bytes")
        }
        try authenticator.checkDigest(request, body: body)
        return body
    }

    /// `PUT /v1/peer/sets/{storageIndex}` (peer-signed): the deposit of a set whose shares this
    /// vault holds for the caller. Kept only when it verifies: the genesis leaf signed by the
    /// person whose key the shares named, for the caller's own origin; the checkpoint signed by
    /// that vault's log key; the leaf in it; the leaf about this very set.
    @Sendable func putSet(_ request: Request, context: Context) async throws -> Response {
        let peer = try await authenticator.authenticate(request, covering: [], hasBody: true)
        let index = try storageIndex(context: context, caller: .peer(peer))
        let body = try await Self.body(request, upTo: FragmentDeposit.maxBytes, what: "a deposit", authenticator: authenticator)
        guard let owner = try await store.shareOwners()[peer.origin] else {
            throw Problem(code: .notFound, detail: "this peer holds no share of \(index): send the shares first")
        }
        let deposit: FragmentDeposit
        let verified: FragmentDeposit.Verified
        do {
            deposit = try FragmentDeposit(json: try JSONValue.parse(body))
            verified = try deposit.verify(owner: owner)
        } catch let e as VaultError {
            throw Problem(code: .shareInvalid, detail: "the deposit does not verify: \(e.message)")
        } catch {
            throw Problem(code: .shareInvalid, detail: "the deposit is not JSON")
        }
        let logKey = try await store.peers().first { $0.origin == peer.origin }?.logKey
        // The leaf as a set restores read it (every field in range), with nothing else in it: a
        // deposit is not a place to park bytes.
        guard FragmentSet(leafIndex: deposit.leafIndex, leaf: deposit.leaf, codec: "rs-isal/1") != nil, Self.onlyKnownMembers(verified.leaf.json) else {
            throw Problem(code: .shareInvalid, detail: "the deposit's leaf is not a well-formed fragments.placed leaf (known members only)")
        }
        guard verified.vault.origin == peer.origin, verified.vault.logKey == logKey, verified.leaf.json["storageIndex"]?.stringValue == index else {
            throw Problem(code: .shareInvalid, detail: "the deposit is not your vault's leaf for the set \(index) (its origin, log key and set must be yours)")
        }
        try await store.keepDeposit(storageIndex: index, sender: peer.origin, leafIndex: deposit.leafIndex, deposit: deposit.json.serialized(),
                                    quota: limits.maxBytesPerPeer, now: Timestamp.now())
        return Response(status: .noContent)
    }

    static var leafMembers: Set<String> { ["type", "time", "salt", "storageIndex", "codec", "k", "n", "size", "sha256", "push", "segment", "segments",
                                          "shares", "replaces"] }
    static var shareMembers: Set<String> { ["n", "peer", "url", "sha256"] }

    static func onlyKnownMembers(_ leaf: JSONValue) -> Bool {
        guard case .object(let o) = leaf, Set(o.keys).isSubset(of: leafMembers), case .array(let shares)? = o["shares"] else { return false }
        return shares.allSatisfy { if case .object(let s) = $0 { return Set(s.keys).isSubset(of: shareMembers) } else { return false } }
    }

    /// `DELETE /v1/peer/sets/{storageIndex}` (peer-signed): the sender no longer needs the set
    /// (a newer push replaced it): its deposit and every share of it held here go.
    @Sendable func deleteSet(_ request: Request, context: Context) async throws -> Response {
        let peer = try await authenticator.authenticate(request, covering: [], hasBody: true)
        let index = try storageIndex(context: context, caller: .peer(peer))
        _ = try await Self.body(request, upTo: 1024, what: "a deletion's body", authenticator: authenticator)
        for n in try await store.forgetHeldSet(storageIndex: index, sender: peer.origin) { files.remove(storageIndex: index, n: n) }
        return Response(status: .noContent)
    }

    /// `GET /v1/peer/sets[?after=<cursor>]` (signed by the person, `keyid` `owner:<thumbprint>`):
    /// the deposits of every set held for the vaults they own, in the order they came, a page at
    /// a time.
    @Sendable func sets(_ request: Request, context: Context) async throws -> Deposits {
        guard case .owner(let owner, let senders) = try await authenticator.authenticate(request, covering: [], hasBody: false, allowOwner: true) else {
            throw PeerAuthenticator.refusal
        }
        var after: Int64 = 0
        if let text = request.uri.queryParameters["after"].map(String.init) {
            guard let value = PeerShareProtocol.decimal(text) else { throw Problem(code: .badRequest, detail: "after must be a cursor from the previous page's next") }
            after = Int64(value)
        }
        // One page at a time (a few MiB at most), two listings per owner at once.
        let caller = "owner:" + Encoding.base64url(owner)
        try transfers.take(caller)
        defer { transfers.give(caller) }
        let page = try await store.deposits(senders: senders, after: after, maxCount: FragmentDeposit.pageCount, maxBytes: FragmentDeposit.pageBytes)
        return Deposits(deposits: page.deposits, next: page.next)
    }
}

/// Recovery shares sealed to this vault (docs/PROTOCOL.md §"Key recovery", "Shares sealed to peers").
extension PeerSharesController {
    /// `PUT /v1/peer/recovery-share` (peer-signed): a share of the sender's person's key, sealed
    /// to this vault's witness key; it replaces the one the sender left before.
    @Sendable func putRecoveryShare(_ request: Request, context: Context) async throws -> Response {
        let peer = try await authenticator.authenticate(request, covering: [], hasBody: true)
        let body = try await Self.body(request, upTo: SealedRecoveryShare.maxBytes, what: "a sealed recovery share", authenticator: authenticator)
        let share: SealedRecoveryShare
        do { share = try SealedRecoveryShare(bytes: body) } catch let e as VaultError { throw Problem(code: .badRequest, detail: e.message) }
        guard share.vault == peer.origin, share.holder == authenticator.origin else {
            throw Problem(code: .badRequest, detail: "a recovery share names your vault and this one (\(authenticator.origin)) as its holder")
        }
        try await store.keepRecoveryShare(sender: peer.origin, share: body, now: Timestamp.now())
        return Response(status: .noContent)
    }
}
