import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultFragments
#if canImport(Glibc)
import Glibc
#endif

/// Rebuilds a vault from its fragment sets on the peers (docs/OPERATIONS.md §"When the gateway
/// dies"): with only the person's key, from any one peer's URL.
public enum FragmentRestore {
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
        let sets = deposited.compactMap { FragmentSet(leafIndex: $0.leafIndex, leaf: $0.leaf, codec: ErasureCoder.codec) }
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
    static func fetch(_ candidates: [FragmentSet], keys: UserKeys) async throws -> [UInt8] {
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
