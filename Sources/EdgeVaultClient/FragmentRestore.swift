import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultFragments
#if canImport(Glibc)
import Glibc
#endif

/// Rebuilds a vault from its fragment sets on the peers (docs/OPERATIONS.md §"When the gateway
/// dies"): with only the person's key, from any one peer's URL.
public enum FragmentRestore {
    /// One set as its `fragments.placed` leaf describes it.
    struct PlacedSet {
        struct Share {
            var n: Int
            var url: String
            var sha256: String
        }

        var leafIndex: Int64
        var storageIndex: String
        var push: String
        var segment: Int
        var segments: Int
        var k: Int
        var n: Int
        var size: Int
        var sha256: String
        var replaces: String?
        var shares: [Share]

        init?(leafIndex: Int64, bytes: [UInt8]) {
            guard let leaf = try? LedgerLeaf(bytes: bytes), leaf.type == LedgerLeaf.Kind.fragmentsPlaced.rawValue,
                  leaf.json["codec"]?.stringValue == ErasureCoder.codec,
                  let index = leaf.json["storageIndex"]?.stringValue, let push = leaf.json["push"]?.stringValue,
                  let sha = leaf.json["sha256"]?.stringValue,
                  case .array(let items)? = leaf.json["shares"] else { return nil }
            func int(_ v: JSONValue?) -> Int? { if case .number(let t)? = v { return Int(t) } else { return nil } }
            guard let segment = int(leaf.json["segment"]), let segments = int(leaf.json["segments"]), let k = int(leaf.json["k"]),
                  let n = int(leaf.json["n"]), let size = int(leaf.json["size"]) else { return nil }
            self.leafIndex = leafIndex
            storageIndex = index
            self.push = push
            self.segment = segment
            self.segments = segments
            self.k = k
            self.n = n
            self.size = size
            sha256 = sha
            replaces = leaf.json["replaces"]?.stringValue
            shares = items.compactMap { s in
                guard let n = int(s["n"]), let url = s["url"]?.stringValue, let sha = s["sha256"]?.stringValue else { return nil }
                return Share(n: n, url: url, sha256: sha)
            }
        }
    }

    public struct Outcome: Sendable {
        public var header: Backup.Header
        public var push: String
        public var sets: Int
        /// Leaves appended after the backup so that the log ends where the witnesses saw it.
        public var replayedLeaves: Int
    }

    /// Finds the newest push whose every segment has a set, fetches any k intact shares of each
    /// (every share's hash checked, then the segment's), restores the backup they make into
    /// `dataDir` (the ordinary restore: only the person's key opens the log key), and appends the
    /// `fragments.placed` leaves that follow the backup in the log.
    public static func restore(fromPeer url: String, dataDir: String, keys: UserKeys, progress: (String) -> Void = { _ in }) async throws -> Outcome {
        try Backup.checkTarget(dataDir: dataDir)
        let deposited: [(leafIndex: Int64, leaf: [UInt8])]
        do {
            deposited = try await PeerShareClient(url: url, owner: keys.signing).sets()
        } catch {
            throw VaultError(.fragmentInvalid, "the peer at \(url) does not list your sets: \(error)")
        }
        let sets = deposited.compactMap { PlacedSet(leafIndex: $0.leafIndex, bytes: $0.leaf) }
        let replaced = Set(sets.compactMap(\.replaces))
        let pushes = Dictionary(grouping: sets, by: \.push)
            .sorted { ($0.value.map(\.leafIndex).max() ?? 0) > ($1.value.map(\.leafIndex).max() ?? 0) }
        var failures: [String] = []
        for (push, candidates) in pushes {
            let segments = candidates[0].segments
            // Per segment: the live set first, then those it replaced (newest first).
            let bySegment = Dictionary(grouping: candidates, by: \.segment).mapValues { list in
                list.sorted { (replaced.contains($0.storageIndex) ? 1 : 0, -$0.leafIndex) < (replaced.contains($1.storageIndex) ? 1 : 0, -$1.leafIndex) }
            }
            guard (0..<segments).allSatisfy({ bySegment[$0] != nil }) else {
                failures.append("push \(push) lacks segments")
                continue
            }
            let tmp = FileIO.parentDirectory(FileIO.absolute(dataDir)) + "/.fragments-restore-\(getpid()).backup"
            unlink(tmp)
            defer { unlink(tmp) }
            do {
                let writer = try FileIO.Writer(creating: tmp, mode: 0o600)
                for segment in 0..<segments {
                    progress("segment \(segment + 1)/\(segments)")
                    try writer.write(try await fetch(bySegment[segment]!, keys: keys))
                }
                try writer.commit()
            } catch {
                failures.append("push \(push): \(error)")
                continue
            }
            let header = try Backup.restore(file: tmp, dataDir: dataDir, keys: keys)
            let store = try VaultStore.open(dataDir: dataDir)
            let replayed = try await store.replayLeaves(deposited)
            return Outcome(header: header, push: push, sets: segments, replayedLeaves: replayed)
        }
        throw VaultError(.fragmentInvalid, sets.isEmpty ? "the peer at \(url) keeps no sets of yours"
                         : "no complete backup could be rebuilt: \(failures.joined(separator: "; "))")
    }

    /// One segment from the first of `candidates` that yields k intact shares and decodes to its hash.
    static func fetch(_ candidates: [PlacedSet], keys: UserKeys) async throws -> [UInt8] {
        var why: [String] = []
        for set in candidates {
            var shares: [Int: [UInt8]] = [:]
            for share in set.shares where shares.count < set.k {
                guard let bytes = try? await PeerShareClient(url: share.url, owner: keys.signing).get(storageIndex: set.storageIndex, n: share.n),
                      Encoding.base64(Hash.sha256(bytes)) == share.sha256 else { continue }
                shares[share.n] = bytes
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
