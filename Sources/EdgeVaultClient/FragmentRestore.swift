import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultFragments
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Rebuilds a vault from its fragment sets on the peers (docs/OPERATIONS.md §"When the gateway
/// dies"): with only the person's key, from any one peer's URL. Nothing a peer says is taken on
/// its word: a set counts only when its deposit proves, from the person's own key, that its leaf
/// is in the person's vault's log (docs/PROTOCOL.md §"Fragments", "Deposits"); every share and
/// segment is checked against that leaf; the blob opens only with the person's key.
public enum FragmentRestore {
    public struct Outcome: Sendable {
        public var header: Backup.Header
        public var push: String
        public var sets: Int
        /// Leaves appended after the backup so that the log ends where the witnesses saw it.
        public var replayedLeaves: Int
        /// Deposits the peers listed that did not verify (ignored).
        public var rejectedDeposits: Int
        /// The restored log's size, and the largest checkpoint of that log the deposits prove.
        public var logSize: Int64
        public var provenLogSize: Int64
        /// The peers whose listings were read.
        public var listedPeers: Int
        /// The newest push the proofs show, when an older one was restored (`allowOlder`).
        public var newerPush: String?
    }

    /// One backup's worth of sets, all proven to be in one vault's log.
    struct Push {
        var origin: String
        var push: String
        var segments: Int
        /// Per segment: the candidate sets, the live one first.
        var bySegment: [Int: [FragmentSet]]
        var newest: Int64
    }

    /// The pushes the verified deposits describe, newest first (by the index of their newest
    /// leaf in their vault's log), each with every segment covered.
    static func pushes(_ verified: [(origin: String, set: FragmentSet)]) -> (complete: [Push], incomplete: [String]) {
        let replaced = Set(verified.compactMap(\.set.replaces))
        var complete: [Push] = [], incomplete: [String] = []
        for ((origin, push), list) in Dictionary(grouping: verified, by: { PushKey(origin: $0.origin, push: $0.set.push) }).map({ (($0.key.origin, $0.key.push), $0.value.map(\.set)) }) {
            // One push, one segment count: a leaf saying otherwise belongs to no backup.
            let segments = list[0].segments
            let sets = list.filter { $0.segments == segments }
            let bySegment = Dictionary(grouping: sets, by: \.segment).mapValues { candidates in
                candidates.sorted { (replaced.contains($0.storageIndex) ? 1 : 0, -$0.leafIndex) < (replaced.contains($1.storageIndex) ? 1 : 0, -$1.leafIndex) }
            }
            if (0..<segments).allSatisfy({ bySegment[$0] != nil }) {
                complete.append(Push(origin: origin, push: push, segments: segments, bySegment: bySegment, newest: sets.map(\.leafIndex).max() ?? 0))
            } else {
                incomplete.append("push \(push) lacks segments")
            }
        }
        return (complete.sorted { $0.newest > $1.newest }, incomplete)
    }

    struct PushKey: Hashable {
        var origin: String
        var push: String
    }

    /// Finds the newest push whose every segment has a proven set, fetches any k intact shares of
    /// each (every share's hash checked, then the segment's), decrypts the blob they make with
    /// the person's key, restores the backup into `dataDir` (the ordinary restore: only the
    /// person's key opens the log key) and appends the proven `fragments.placed` leaves that
    /// follow the backup in the log.
    public static func restore(fromPeer url: String, dataDir: String, keys: UserKeys, allowOlder: Bool = false,
                               progress: (String) -> Void = { _ in }) async throws -> Outcome {
        try Backup.checkTarget(dataDir: dataDir)
        let owner = keys.signing.publicKey.bytes
        // Proven deposits by (origin, storage index): the same deposit comes from every holder of its set.
        var proven: [String: (origin: String, set: FragmentSet, deposit: FragmentDeposit, checkpointSize: Int64)] = [:]
        var rejected = 0
        func list(_ url: String, holder: String?) async throws {
            var origin = holder ?? ""
            if holder == nil { origin = try await PeerShareClient.origin(ofPeer: url) }
            let holder = origin
            var client = PeerShareClient(url: url, holder: holder, owner: keys.signing)
            client.timeout = 30
            let kept = try await client.sets { deposit -> (String, FragmentSet, FragmentDeposit, Int64)? in
                guard let v = try? deposit.verify(owner: owner),
                      let set = FragmentSet(leafIndex: deposit.leafIndex, leaf: deposit.leaf, codec: ErasureCoder.codec) else {
                    rejected += 1
                    return nil
                }
                return (v.vault.origin, set, deposit, v.checkpointSize)
            }
            for (origin, set, deposit, size) in kept where proven[origin + " " + set.storageIndex] == nil {
                proven[origin + " " + set.storageIndex] = (origin, set, deposit, size)
            }
        }
        do {
            try await list(url, holder: nil)
        } catch {
            throw VaultError(.fragmentInvalid, "the peer at \(url) does not list your sets: \(error)")
        }
        // Then every other holder the proven sets name: one peer that withholds sets (or relays
        // another's listing, leaving some out) cannot make the restore pick an older backup.
        var listed = Set([url])
        var holders: [(url: String, origin: String)] = []
        for entry in proven.values { for share in entry.set.shares where !listed.contains(share.url) && holders.count < 64 {
            listed.insert(share.url)
            holders.append((share.url, share.peer))
        } }
        var answered = 1
        for holder in holders {
            progress("asking \(holder.origin) for its list")
            if (try? await list(holder.url, holder: holder.origin)) != nil { answered += 1 }
        }
        let verified = proven.values.map { (origin: $0.origin, set: $0.set) }
        let (pushes, incomplete) = pushes(verified)
        var failures = incomplete
        let parent = FileIO.parentDirectory(FileIO.absolute(dataDir))
        try FileIO.makeDirectories(parent, mode: 0o750)
        // The newest complete push each vault's proofs show (every holder's list read: a set is
        // hidden only if all its holders hide it): restoring anything older loses what came
        // after. A push with segments missing everywhere failed half way and is no backup.
        var newest: [String: String] = [:]
        for push in pushes where newest[push.origin] == nil { newest[push.origin] = push.push }
        let silent = SilentHolders()
        for push in pushes {
            if push.push != newest[push.origin], !allowOlder {
                throw VaultError(.fragmentInvalid, "the newest complete backup your log proves (push \(newest[push.origin] ?? "?")) cannot be rebuilt"
                    + (failures.isEmpty ? "" : " (\(failures.joined(separator: "; ")))")
                    + "; the older push \(push.push) could be, but would lose what came after it. Bring more of your peers online and try again, "
                    + "or pass --allow-older to restore push \(push.push)")
            }
            let blob = parent + "/.fragments-restore-" + Encoding.hex(Sodium.randomBytes(8)) + ".blob"
            let backup = parent + "/.fragments-restore-" + Encoding.hex(Sodium.randomBytes(8)) + ".backup"
            defer { unlink(blob); unlink(backup) }
            do {
                let writer = try FileIO.Writer(creating: blob, mode: 0o600)
                for segment in 0..<push.segments {
                    progress("segment \(segment + 1)/\(push.segments)")
                    try writer.write(try await fetch(push.bySegment[segment]!, keys: keys, silent: silent))
                }
                try writer.commit()
                let out = try FileIO.Writer(creating: backup, mode: 0o600)
                let reader = try FileIO.Reader(blob)
                try FragmentBlob.decrypt(with: keys.box, read: reader.exactly, write: out.write)
                try out.commit()
            } catch {
                failures.append("push \(push.push): \(error)")
                continue
            }
            let header: Backup.Header
            do {
                header = try Backup.restore(file: backup, dataDir: dataDir, keys: keys)
            } catch let e as VaultError where e.code != .vaultExists {
                failures.append("push \(push.push): \(e.message)")
                continue
            }
            let store = try VaultStore.open(dataDir: dataDir)
            let mine = proven.values.filter { $0.origin == push.origin }
            let replayed = try await store.replayLeaves(mine.map { ($0.deposit.leafIndex, $0.deposit.leaf) }, codec: ErasureCoder.codec)
            return Outcome(header: header, push: push.push, sets: push.segments, replayedLeaves: replayed, rejectedDeposits: rejected,
                           logSize: try await store.treeHead().size, provenLogSize: mine.map(\.checkpointSize).max() ?? 0, listedPeers: answered,
                           newerPush: newest[push.origin] == push.push ? nil : newest[push.origin])
        }
        if verified.isEmpty {
            throw VaultError(.fragmentInvalid, rejected == 0 ? "the peer at \(url) keeps no sets of yours"
                             : "the peer at \(url) lists \(rejected) sets, none proven to be in your vault's log")
        }
        throw VaultError(.fragmentInvalid, "no complete backup could be rebuilt: \(failures.joined(separator: "; "))")
    }

    /// One segment from the first of `candidates` that yields k intact shares and decodes to its hash.
    /// Holders that did not answer within the timeout during this restore: not asked again.
    final class SilentHolders: Sendable {
        private let set = Mutex<Set<String>>([])
        func contains(_ peer: String) -> Bool { set.withLock { $0.contains(peer) } }
        func insert(_ peer: String) { _ = set.withLock { $0.insert(peer) } }
    }

    static let shareTimeoutSeconds: Int64 = 30

    static func fetch(_ candidates: [FragmentSet], keys: UserKeys, silent: SilentHolders) async throws -> [UInt8] {
        var why: [String] = []
        for set in candidates {
            var shares: [Int: [UInt8]] = [:]
            let length = PeerShareProtocol.shareLength(size: set.size, k: set.k)
            // The shares still missing are asked for at once, from the next holders in the leaf's order.
            var untried = set.shares.filter { !silent.contains($0.peer) }[...]
            while shares.count < set.k, !untried.isEmpty {
                let batch = untried.prefix(set.k - shares.count)
                untried = untried.dropFirst(batch.count)
                let signing = keys.signing
                await withTaskGroup(of: (Int, [UInt8]?).self) { group in
                    for share in batch {
                        group.addTask {
                            var client = PeerShareClient(url: share.url, holder: share.peer, owner: signing)
                            client.timeout = shareTimeoutSeconds
                            do {
                                let bytes = try await client.get(storageIndex: set.storageIndex, n: share.n, length: length)
                                return Encoding.base64(Hash.sha256(bytes)) == share.sha256 ? (share.n, bytes) : (share.n, nil)
                            } catch let f as PeerShareClient.Failure where f.status == 0 {
                                silent.insert(share.peer)
                                return (share.n, nil)
                            } catch {
                                return (share.n, nil)
                            }
                        }
                    }
                    for await (n, bytes) in group { if let bytes { shares[n] = bytes } }
                }
            }
            guard shares.count == set.k else {
                why.append("\(set.storageIndex): \(shares.count) of \(set.k) shares intact")
                continue
            }
            let bytes = try ErasureCoder(k: set.k, n: set.n).decode(shares: shares, size: set.size)
            guard Encoding.base64(Hash.sha256(bytes)) == set.sha256 else {
                why.append("\(set.storageIndex): decodes to bytes that do not match its hash")
                continue
            }
            return bytes
        }
        throw VaultError(.fragmentInvalid, why.joined(separator: "; "))
    }
}
