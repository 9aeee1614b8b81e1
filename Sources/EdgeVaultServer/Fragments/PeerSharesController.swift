import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import HTTPTypes
import NIOCore

/// The limits a vault sets on the shares it keeps for its peers (`[fragments]` settings).
public struct ShareLimits: Sendable, Equatable {
    /// Bytes of shares kept for one peer vault in all (`fragments.max_bytes_per_peer`).
    public var maxBytesPerPeer: Int64 = 2 << 30
    /// The longest single share (`fragments.max_share_bytes`).
    public var maxShareBytes = 64 << 20

    public init() {}
}

/// A push vaultd makes by itself (0 seconds: none).
public struct FragmentPushSchedule: Sendable, Equatable {
    public var seconds = 0
    /// Push once the database has grown this many bytes past the last push's blob (0: never);
    /// checked every `checkSeconds`.
    public var afterBytes = 0
    public var checkSeconds = 60
    public var k = 3
    public var n = 8

    public init() {}
}

/// `PUT`/`GET /v1/peer/shares/{storageIndex}/{n}` and `POST …/{n}/audit` on the public
/// listener (docs/PROTOCOL.md §"Fragments"): the shares this vault keeps for the peers the
/// person added, each call signed with the sending vault's witness key.
struct PeerSharesController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let authenticator: PeerAuthenticator
    let files: ShareFiles
    let limits: ShareLimits
    /// Shares being written or audited at once: a call beyond them gets 429 at once.
    let transfers: TransferSlots
    /// Shares being sent at once to one caller (each pins up to a few MiB of send buffers while
    /// a slow reader takes it): two.
    let downloads = TransferSlots(Int.max, perCaller: 2)

    static var template: String { "/v1/peer/shares/{storageIndex}/{n}" }
    /// Shares written or audited, and listings, at once (all peers together; two per peer).
    static var concurrentTransfers: Int { 6 }

    func addRoutes(to router: Router<Context>) {
        router.put(RouterPath(Self.template), use: put)
        router.get(RouterPath(Self.template), use: get)
        router.post(RouterPath(Self.template + "/audit"), use: audit)
        router.put("/v1/peer/sets/{storageIndex}", use: putSet)
        router.delete("/v1/peer/sets/{storageIndex}", use: deleteSet)
        router.get(RouterPath(PeerShareProtocol.setsPath), use: sets)
        router.put(RouterPath(PeerShareProtocol.recoverySharePath), use: putRecoveryShare)
    }

    struct Stored: Codable, Sendable {
        var storageIndex: String
        var n: Int
        var sha256: String
    }

    struct AuditProof: Codable, Sendable {
        /// Base64 of SHA-256(nonce ‖ share).
        var sha256: String
    }

    /// The storage index and share number of the path, and the peer calling, whose prefix the
    /// index must carry.
    func address(_ request: Request, context: Context, caller: ShareCaller) throws -> (String, Int) {
        let index = try storageIndex(context: context, caller: caller)
        guard let n = PeerShareProtocol.decimal(try context.parameters.require("n")), (0..<255).contains(n) else {
            throw Problem(code: .shareInvalid, detail: "a share's path is /v1/peer/shares/<16 hex digits>-<hex digits>/<0…254>")
        }
        return (index, n)
    }

    /// The path's storage index, which must begin with the caller's prefix (the owner's: one of
    /// the vaults it owns).
    func storageIndex(context: Context, caller: ShareCaller) throws -> String {
        let index = try context.parameters.require("storageIndex")
        guard PeerShareProtocol.isWellFormed(index) else {
            throw Problem(code: .shareInvalid, detail: "a storage index is <16 hex digits>-<1…64 hex digits>")
        }
        let origins: [String]
        switch caller {
        case .peer(let peer): origins = [peer.origin]
        case .owner(_, let senders): origins = senders
        }
        guard origins.contains(where: { index.hasPrefix(PeerShareProtocol.senderPrefix(origin: $0) + "-") }) else {
            let prefixes = origins.map { PeerShareProtocol.senderPrefix(origin: $0) + "-" }.joined(separator: " or ")
            throw Problem(code: .storageIndexForeign,
                          detail: "storage index \(index) is not yours: your indexes begin with \(prefixes) (16 hex digits of SHA-256 of the vault's origin)")
        }
        return index
    }

    func header(_ request: Request, _ name: String) throws -> Int {
        guard let text = request.headers[HTTPField.Name(name)!], let value = PeerShareProtocol.decimal(text) else {
            throw Problem(code: .shareInvalid, detail: "\(name) must be a non-negative integer")
        }
        return value
    }

    @Sendable func put(_ request: Request, context: Context) async throws -> Response {
        let peer = try await authenticator.authenticate(
            request, covering: [PeerShareProtocol.kHeader, PeerShareProtocol.nHeader, PeerShareProtocol.sizeHeader, PeerShareProtocol.ownerHeader],
            hasBody: true)
        let (index, n) = try address(request, context: context, caller: .peer(peer))
        guard let ownerText = request.headers[HTTPField.Name(PeerShareProtocol.ownerHeader)!], let owner = Encoding.fromBase64url(ownerText),
              owner.count == 32 else {
            throw Problem(code: .shareInvalid, detail: "EdgeVault-Owner-Key must be the person's Ed25519 key, base64url (32 bytes)")
        }
        let k = try header(request, PeerShareProtocol.kHeader), total = try header(request, PeerShareProtocol.nHeader)
        let size = try header(request, PeerShareProtocol.sizeHeader)
        guard k >= 1, k < total, total <= 255, n < total else {
            throw Problem(code: .shareInvalid, detail: "a set is k-of-n with 1 ≤ k < n ≤ 255 and shares 0…n−1 (got \(k)-of-\(total), share \(n))")
        }
        let length = PeerShareProtocol.shareLength(size: size, k: k)
        guard length <= limits.maxShareBytes else {
            throw Problem(code: .tooLarge, detail: "a share of \(length) bytes is over this peer's limit of \(limits.maxShareBytes) (send smaller segments)")
        }
        // The quota first: nothing is read from a peer already at it.
        let used = try await store.heldBytes(sender: peer.origin)
        guard used + VaultStore.charge(length) <= limits.maxBytesPerPeer else {
            throw Problem(code: .quotaExceeded, detail: "this peer keeps at most \(limits.maxBytesPerPeer) bytes of shares for your vault; \(used) are used")
        }
        // The body goes to a staged file as it arrives (memory stays flat), at most `length` bytes.
        try transfers.take(peer.origin)
        defer { transfers.give(peer.origin) }
        let (staged, digest, count) = try await files.stage(request.body, length: length)
        do {
            guard count == length else {
                throw Problem(code: .shareInvalid, detail: "the share is \(count) bytes; a share of a \(size)-byte set with k = \(k) is \(length)")
            }
            try authenticator.checkDigest(request, sha256: digest)
        } catch {
            files.discard(staged)
            throw error
        }
        let held = HeldShare(storageIndex: index, n: n, sender: peer.origin, k: k, total: total, setSize: size, length: length,
                             sha256: digest, owner: owner, storedAt: Timestamp.now())
        let outcome: VaultStore.Admission
        do {
            outcome = try await store.admitShare(held, quota: limits.maxBytesPerPeer) { [files] in
                try files.install(staged, storageIndex: index, n: n)
            }
        } catch {
            files.discard(staged)
            throw error
        }
        if outcome == .unchanged { files.discard(staged) }
        let stored = Stored(storageIndex: index, n: n, sha256: Encoding.base64(digest))
        return try JSONBody(stored, status: outcome == .stored ? .created : .ok).response(from: request, context: context)
    }

    func held(_ request: Request, context: Context, caller: ShareCaller) async throws -> HeldShare {
        let (index, n) = try address(request, context: context, caller: caller)
        let mine: (HeldShare) -> Bool = { share in
            switch caller {
            case .peer(let peer): return share.sender == peer.origin
            case .owner(let key, let senders): return senders.contains(share.sender) && share.owner == key
            }
        }
        guard let share = try await store.heldShare(storageIndex: index, n: n), mine(share) else {
            throw Problem(code: .notFound, detail: "this peer holds no share \(n) of \(index)")
        }
        return share
    }

    @Sendable func get(_ request: Request, context: Context) async throws -> Response {
        let caller = try await authenticator.authenticate(request, covering: [], hasBody: false, allowOwner: true)
        let share = try await held(request, context: context, caller: caller)
        let key: String
        switch caller {
        case .peer(let peer): key = peer.origin
        case .owner(let owner, _): key = "owner:" + Encoding.base64url(owner)
        }
        try downloads.take(key)
        do {
            let downloads = self.downloads
            return Response(status: .ok, headers: [.contentType: "application/octet-stream"],
                            body: try files.body(storageIndex: share.storageIndex, n: share.n, length: share.length) { downloads.give(key) })
        } catch {
            downloads.give(key)
            throw error
        }
    }

    @Sendable func audit(_ request: Request, context: Context) async throws -> JSONBody<AuditProof> {
        let peer = try await authenticator.authenticate(request, covering: [], hasBody: true)
        let nonce = Array(try await request.body.collect(upTo: 64).readableBytesView)
        guard nonce.count == 32 else { throw Problem(code: .shareInvalid, detail: "an audit's body is a 32-byte random nonce") }
        try authenticator.checkDigest(request, body: nonce)
        let share = try await held(request, context: context, caller: .peer(peer))
        try transfers.take(peer.origin)
        defer { transfers.give(peer.origin) }
        return JSONBody(AuditProof(sha256: Encoding.base64(try files.digest(storageIndex: share.storageIndex, n: share.n, prefix: nonce))))
    }
}
