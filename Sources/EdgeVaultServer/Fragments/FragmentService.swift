import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultFragments
import Logging

/// Places the vault's encrypted backup on its peers as k-of-n fragment sets, audits them and
/// repairs them (docs/PROTOCOL.md §"Fragments"). A push and an audit take turns (`exclusive`):
/// they never race over the same sets.
public actor FragmentService {
    public static let defaultSegmentBytes = 64 << 20
    /// Audit questions computed per share while its bytes are at hand (more are made whenever
    /// an audit has used them up and fetches the share to check it whole).
    static let challengesPerShare = 4

    static func challenges(for share: [UInt8]) -> [VaultStore.Challenge] {
        (0..<challengesPerShare).map { _ in
            let nonce = Sodium.randomBytes(32)
            return VaultStore.Challenge(nonce: nonce, proof: PeerShareProtocol.auditProof(nonce: nonce, share: share))
        }
    }

    let store: VaultStore
    let ledger: LedgerService
    let dataDir: String
    /// The vault's witness key: peers know it from `peer add --witness-key`.
    let keyPair: SigningKeyPair
    let logger: Logger

    public init(store: VaultStore, ledger: LedgerService, dataDir: String, keyPair: SigningKeyPair, logger: Logger) {
        self.store = store
        self.ledger = ledger
        self.dataDir = dataDir
        self.keyPair = keyPair
        self.logger = logger
    }

    /// A peer shares can go to: added with a URL and a witness key.
    struct Holder: Sendable, Equatable {
        var origin: String
        var name: String
        var url: String
    }

    func holders() async throws -> [Holder] {
        try await store.peers().compactMap { p in
            guard let url = p.url, p.witnessKey != nil else { return nil }
            return Holder(origin: p.origin, name: p.name, url: url)
        }
    }

    /// Peers needed so that none holds `k` shares of an `n`-share set: ceil(n / (k − 1)).
    public static func peersNeeded(k: Int, n: Int) -> Int { k <= 1 ? Int.max : (n + k - 2) / (k - 1) }

    func client(_ share: FragmentSet.Share) -> PeerShareClient {
        PeerShareClient(url: share.url, holder: share.peer, origin: ledger.origin, keyPair: keyPair)
    }

    func client(_ holder: Holder) -> PeerShareClient { PeerShareClient(url: holder.url, holder: holder.origin, origin: ledger.origin, keyPair: keyPair) }

    /// Makes a backup, cuts it into segments and places each as a set, one `fragments.placed`
    /// leaf per set.
    /// Refuses a push that cannot be done (before anything is streamed back): the code's
    /// settings, the segment size, too few peers. Returns the coder and the peers.
    func check(_ input: AdminAPI.FragmentsPushInput) async throws -> (ErasureCoder, [Holder]) {
        guard input.k >= 2 else { throw VaultError(.badRequest, "k must be at least 2: with k = 1 every peer would hold a whole copy") }
        let coder = try ErasureCoder(k: input.k, n: input.n)
        guard (1...(1 << 30)).contains(input.segmentBytes ?? Self.defaultSegmentBytes) else { throw VaultError(.badRequest, "segmentBytes must be 1…2^30") }
        // Deposits prove a set from the person's signature in the genesis leaf: a vault made
        // without it (before fragments) could place sets nobody could ever restore.
        guard let genesis = try await store.leaf(at: 0),
              (try? VaultBinding.verify(genesis: genesis, owner: [UInt8](ledger.vault.userSigningKey))) != nil else {
            throw VaultError(.keyMismatch, "this vault's first log entry carries no signature by you over its log key (it was made before fragments "
                + "existed), so sets placed now could never be proven to be yours; fragments need a vault made by this version's vault-cli init")
        }
        let holders = try await holders()
        let needed = Self.peersNeeded(k: input.k, n: input.n)
        guard holders.count >= needed else {
            throw VaultError(.tooFewPeers, "\(input.k)-of-\(input.n) needs at least \(needed) peers (so that none holds \(input.k) shares of a set); "
                + "this vault has \(holders.count) with a URL and a witness key: add peers (vault-cli peer add) or lower n")
        }
        return (coder, holders)
    }

    /// Whether a push or an audit runs: they take turns (an actor alone would interleave them
    /// at every network wait).
    private var running = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func exclusive<T: Sendable>(_ body: () async throws -> T) async throws -> T {
        while running { await withCheckedContinuation { waiting.append($0) } }
        running = true
        defer {
            running = false
            if !waiting.isEmpty { waiting.removeFirst().resume() }
        }
        return try await body()
    }

    /// The push, checked first; `placed` hears of each set as soon as it is recorded. Waits
    /// for an audit under way.
    public func push(_ input: AdminAPI.FragmentsPushInput,
                     placed report: @Sendable (AdminAPI.FragmentSetInfo) -> Void = { _ in }) async throws -> AdminAPI.FragmentsPushResult {
        try await exclusive { try await pushNow(input, placed: report) }
    }

    func pushNow(_ input: AdminAPI.FragmentsPushInput,
                 placed report: @Sendable (AdminAPI.FragmentSetInfo) -> Void) async throws -> AdminAPI.FragmentsPushResult {
        let (coder, holders) = try await check(input)
        let segmentBytes = input.segmentBytes ?? Self.defaultSegmentBytes
        let names = Dictionary(holders.map { ($0.origin, $0.name) }, uniquingKeysWith: { a, _ in a })
        // The backup encrypted whole (docs/PROTOCOL.md §"Fragments", "The blob"): the shares
        // show a holder nothing, not even the backup's unencrypted metadata.
        let blob = try await Backup.prepareBlob(store: store, dataDir: dataDir)
        defer { blob.discard() }
        let segments = max(1, (blob.bytes + segmentBytes - 1) / segmentBytes)
        let push = Encoding.hex(Sodium.randomBytes(8))
        var placed: [FragmentSet] = []
        let reader = try FileIO.Reader(blob.path)
        for segment in 0..<segments {
            let bytes = try reader.exactly(segmentBytes)
            placed.append(try await place(bytes, coder: coder, holders: holders, push: push, segment: segment, segments: segments))
            report(Self.info(placed.last!, names: names))
        }
        let checkpoint = try await ledger.anchorForAnswer(index: placed.last!.leafIndex,
                                                          detail: "the fragments are placed and recorded but their checkpoint could not be signed yet")
        await retire(keeping: push)
        return AdminAPI.FragmentsPushResult(push: push, backupBytes: blob.bytes, sets: placed.map { Self.info($0, names: names) },
                                            checkpointSize: checkpoint.size)
    }

    /// Encodes `bytes` and sends share `i` to holder `(i + segment) mod P`; a share a peer
    /// refuses goes to another peer that still holds fewer than `k − 1` shares of the set.
    /// Records the set (leaf and rows) once every share is placed.
    func place(_ bytes: [UInt8], coder: ErasureCoder, holders: [Holder], push: String, segment: Int, segments: Int,
               replaces: String? = nil) async throws -> FragmentSet {
        let shares = coder.encode(bytes)
        // Hashing dominates a push (ISA-L's coding is cheap): each share's SHA-256 (which is also
        // its upload's Content-Digest) and its audit challenges are computed once, in parallel.
        let hashed = await Self.hash(shares)
        let index = PeerShareProtocol.newStorageIndex(origin: ledger.origin)
        var assigned = (0..<coder.n).map { holders[($0 + segment) % holders.count] }
        var failed = try await send(Dictionary(uniqueKeysWithValues: shares.enumerated().map { ($0.offset, $0.element) }), digests: hashed.digests,
                                    index: index, coder: coder, size: bytes.count, to: assigned)
        var refused = Set(failed.map { assigned[$0.key].origin })
        for j in failed.keys.sorted() {
            let counts = Dictionary(assigned.enumerated().filter { failed[$0.offset] == nil }.map { ($0.element.origin, 1) }, uniquingKeysWith: +)
            var placedShare = false
            for other in holders where !refused.contains(other.origin) && (counts[other.origin] ?? 0) < coder.k - 1 {
                let retry = try await send([j: shares[j]], digests: hashed.digests, index: index, coder: coder, size: bytes.count,
                                           to: assigned.enumerated().map { $0.offset == j ? other : $0.element })
                if retry.isEmpty {
                    assigned[j] = other
                    failed[j] = nil
                    placedShare = true
                    break
                }
                refused.insert(other.origin)
            }
            guard placedShare else {
                throw VaultError(.tooFewPeers, "share \(j) of segment \(segment + 1)/\(segments) could not be placed: \(assigned[j].name) answered \(failed[j]!), "
                    + "and no other peer can take it without holding \(coder.k) shares of the set")
            }
        }
        var set = FragmentSet(storageIndex: index, push: push, segment: segment, segments: segments, k: coder.k, n: coder.n, size: bytes.count,
                              sha256: Encoding.base64(Hash.sha256(bytes)), placedAt: Timestamp.now(),
                              shares: (0..<coder.n).map { FragmentSet.Share(n: $0, peer: assigned[$0].origin, url: assigned[$0].url,
                                                                                   sha256: Encoding.base64(hashed.digests[$0])) })
        set.leafIndex = try await store.recordFragmentSet(set, codec: ErasureCoder.codec, replaces: replaces, challenges: hashed.challenges, now: set.placedAt)
        let checkpoint = try await ledger.anchorForAnswer(index: set.leafIndex,
                                                          detail: "the fragment set is placed and recorded but its checkpoint could not be signed yet")
        try await deposit(set, checkpoint: checkpoint)
        logger.info("fragment set placed", metadata: ["storageIndex": "\(index)", "segment": "\(segment + 1)/\(segments)", "bytes": "\(bytes.count)"])
        return set
    }

    /// Leaves the set's deposit (its leaf, the genesis leaf, a checkpoint covering it and the
    /// inclusion proof) with every peer holding a share of it, so that the person finds their
    /// sets from any one peer when the gateway is gone. A peer that does not take it is logged;
    /// the set is placed all the same (the other holders keep the deposit).
    func deposit(_ set: FragmentSet, checkpoint: VaultStore.StoredCheckpoint) async throws {
        guard let leaf = try await store.leaf(at: set.leafIndex), let genesis = try await store.leaf(at: 0) else { return }
        let deposit = FragmentDeposit(leafIndex: set.leafIndex, leaf: leaf, genesis: genesis, checkpoint: checkpoint.note,
                                      proof: try await store.inclusionProof(index: set.leafIndex, size: checkpoint.size))
        var holders: [String: String] = [:]
        for share in set.shares { holders[share.peer] = share.url }
        await withTaskGroup(of: Void.self) { group in
            for (peer, url) in holders {
                let client = PeerShareClient(url: url, holder: peer, origin: ledger.origin, keyPair: keyPair)
                let logger = self.logger
                group.addTask {
                    do {
                        try await client.putSet(storageIndex: set.storageIndex, deposit: deposit)
                    } catch {
                        logger.warning("a peer did not keep a set's deposit", metadata: ["peer": "\(peer)", "error": "\(error)"])
                    }
                }
            }
        }
    }

    /// Pushes kept on the peers: the newest and the complete one before it (a fallback should
    /// the newest turn out unreadable). Older sets, and those of pushes that failed half way, are
    /// deleted from their holders and forgotten here; their leaves stay in the log.
    static let pushesKept = 2

    /// Deletes the sets of every push but the newest `pushesKept` (`keeping` among them) from
    /// their holders. A holder that does not answer keeps them until the next push asks again.
    func retire(keeping push: String) async {
        let sets: [FragmentSet]
        do { sets = try await store.fragmentSets() } catch { return }
        // Only complete pushes (every segment placed) are worth keeping: a push that failed half
        // way is no fallback, and must not push out one that is.
        let byPush = Dictionary(grouping: sets, by: \.push)
        let complete = byPush.filter { _, list in Set(list.map(\.segment)).count == (list.first?.segments ?? 0) }
        let newest = complete.mapValues { $0.map(\.leafIndex).max() ?? 0 }
        let kept = Set([push] + newest.filter { $0.key != push }.sorted { $0.value > $1.value }.prefix(Self.pushesKept - 1).map(\.key))
        for set in sets where !kept.contains(set.push) {
            var holders: [String: String] = [:]
            for share in set.shares { holders[share.peer] = share.url }
            var all = true
            for (peer, url) in holders {
                do {
                    try await PeerShareClient(url: url, holder: peer, origin: ledger.origin, keyPair: keyPair).deleteSet(storageIndex: set.storageIndex)
                } catch {
                    all = false
                    logger.info("a peer did not delete an old set yet", metadata: ["peer": "\(peer)", "storageIndex": "\(set.storageIndex)", "error": "\(error)"])
                }
            }
            if all { try? await store.forgetFragmentSet(storageIndex: set.storageIndex) }
        }
    }

    /// Sends the shares of `which` (all when given the whole array as a dictionary) in
    /// parallel; returns the ones that failed with why.
    /// Each share's SHA-256 and audit challenges, the shares hashed in parallel.
    static func hash(_ shares: [[UInt8]]) async -> (digests: [[UInt8]], challenges: [Int: [VaultStore.Challenge]]) {
        await withTaskGroup(of: (Int, [UInt8], [VaultStore.Challenge]).self) { group in
            for (i, share) in shares.enumerated() { group.addTask { (i, Hash.sha256(share), FragmentService.challenges(for: share)) } }
            var digests = [[UInt8]](repeating: [], count: shares.count)
            var challenges: [Int: [VaultStore.Challenge]] = [:]
            for await (i, digest, c) in group {
                digests[i] = digest
                challenges[i] = c
            }
            return (digests, challenges)
        }
    }

    func send(_ shares: [Int: [UInt8]], digests: [[UInt8]], index: String, coder: ErasureCoder, size: Int,
              to assigned: [Holder]) async throws -> [Int: PeerShareClient.Failure] {
        let owner = [UInt8](ledger.vault.userSigningKey)
        return await withTaskGroup(of: (Int, PeerShareClient.Failure?).self) { group in
            for (j, share) in shares {
                let client = self.client(assigned[j])
                group.addTask {
                    do {
                        try await client.put(storageIndex: index, n: j, k: coder.k, total: coder.n, size: size, owner: owner, share: share, sha256: digests[j])
                        return (j, nil)
                    } catch let f as PeerShareClient.Failure {
                        return (j, f)
                    } catch {
                        return (j, PeerShareClient.Failure(status: 0, detail: "\(error)"))
                    }
                }
            }
            var failed: [Int: PeerShareClient.Failure] = [:]
            for await (j, f) in group { if let f { failed[j] = f } }
            return failed
        }
    }

    /// How much the database's used bytes exceed the last push's blob (all of them when
    /// nothing was pushed yet): the new data a `push_after_bytes` schedule waits for.
    public func bytesSinceLastPush() async throws -> Int {
        let used = try await store.usedDatabaseBytes()
        let sets = try await store.fragmentSets()
        guard let last = sets.max(by: { $0.leafIndex < $1.leafIndex })?.push else { return used }
        let pushed = sets.filter { $0.push == last && $0.replacedBy == nil }.reduce(0) { $0 + $1.size }
        return max(0, used - pushed)
    }

    /// The sets as the admin API shows them.
    public func status() async throws -> AdminAPI.FragmentsStatus {
        let names = Dictionary(try await store.peers().map { ($0.origin, $0.name) }, uniquingKeysWith: { a, _ in a })
        return AdminAPI.FragmentsStatus(sets: try await store.fragmentSets().map { Self.info($0, names: names) })
    }

    static func info(_ set: FragmentSet, names: [String: String]) -> AdminAPI.FragmentSetInfo {
        AdminAPI.FragmentSetInfo(
            storageIndex: set.storageIndex, leafIndex: set.leafIndex, push: set.push, segment: set.segment, segments: set.segments, k: set.k, n: set.n,
            size: set.size, sha256: set.sha256, placedAt: Timestamp.rfc3339(milliseconds: set.placedAt), replacedBy: set.replacedBy,
            shares: set.shares.map {
                AdminAPI.FragmentShareInfo(n: $0.n, peer: $0.peer, peerName: names[$0.peer], sha256: $0.sha256,
                                           auditedAt: $0.auditedAt.map { Timestamp.rfc3339(milliseconds: $0) }, healthy: $0.healthy, lastError: $0.lastError)
            })
    }
}
