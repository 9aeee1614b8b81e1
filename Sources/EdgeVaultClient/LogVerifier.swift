import EdgeVaultCore
import EdgeVaultStore
import Dispatch
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Full verification of the vault's ledger, on the person's side (`vault-cli log verify`):
/// recompute the whole tree from the stored leaves, check every stored checkpoint's signature
/// and root, then compare with the checkpoint verified last time (kept in the person's config
/// directory) and check a consistency proof from it — so a rolled-back or rewritten log is
/// detected even if the gateway rewrote every table and re-signed with its log key.
public struct LogVerifier {
    /// What the person's side remembers between runs.
    public struct State: Codable, Sendable, Equatable {
        public var origin: String
        public var verifierKey: String
        public var size: Int64
        public var root: String
        public var checkpoint: String
        public var verifiedAt: String
    }

    public struct Report: Sendable {
        public var leaves: Int64
        public var checkpoints: Int
        public var latest: Checkpoint
        public var previous: State?
        /// The verified leaves of the types asked for (`collect`), in log order.
        public var collected: [LedgerLeaf] = []
    }

    let client: AdminClient
    let statePath: String

    public init(client: AdminClient, statePath: String) {
        self.client = client
        self.statePath = statePath
    }

    /// `$XDG_CONFIG_HOME/edgevault/log-state/<origin>.json` (the origin's '/' become '_').
    public static func defaultStatePath(origin: String) -> String {
        let base = FileIO.parentDirectory(UserKeyFile.defaultPath())
        return base + "/log-state/" + FileIO.fileName(forOrigin: origin) + ".json"
    }

    static func fail(_ message: String) -> VaultError { VaultError(.logInvalid, "log verification failed: " + message) }

    public func loadState() throws -> State? {
        guard FileIO.exists(statePath) else { return nil }
        do {
            return try JSONDecoder().decode(State.self, from: Data(try FileIO.read(statePath, limit: 1 << 20)))
        } catch {
            throw VaultError(.config, "cannot read the remembered checkpoint \(statePath): delete it to start over")
        }
    }

    /// With `collect`, also returns the leaves of those types, read from the same bytes the
    /// tree is recomputed from: a daemon cannot leave one out without failing verification.
    public func verify(progress: (any WorkProgress)? = nil, collect: Set<String> = []) async throws -> Report {
        var collected: [LedgerLeaf] = []
        let key = try await client.logKey()
        let verifier = try SignedNote.Verifier(key.verifierKey)
        let previous = try loadState()
        if let previous, previous.verifierKey != key.verifierKey {
            throw Self.fail("the log key changed since the last verification (was \(previous.verifierKey), now \(key.verifierKey))")
        }
        let previousRoot = previous.flatMap { Encoding.fromBase64($0.root) }

        // Every checkpoint: signature and origin first.
        var checkpoints: [Checkpoint] = []
        var latestNote = ""
        var from: Int64 = 0
        while true {
            let page = try await client.checkpoints(from: from)
            for stored in page.checkpoints {
                let cp: Checkpoint
                do {
                    cp = try Checkpoint.open(stored.note, verifier: verifier)
                } catch {
                    throw Self.fail("checkpoint at size \(stored.size): its signature does not verify with the log key")
                }
                guard cp.size == stored.size else {
                    throw Self.fail("checkpoint stored at size \(stored.size) says size \(cp.size)")
                }
                checkpoints.append(cp)
                latestNote = stored.note
            }
            guard let next = page.next else { break }
            from = next
        }
        guard let latest = checkpoints.last else { throw Self.fail("the log has no checkpoint") }

        // Recompute the tree from the leaves and compare at every checkpoint.
        var builder = MerkleTreeBuilder()
        var nextCheckpoint = 0
        var lastGood: Int64 = 0
        var size: Int64 = 0
        progress?.total = 0
        // Pages are fetched one ahead of the hashing, and each page's leaf hashes are computed
        // on every core: the leaves are independent, the tree is not.
        // A page is fetched and its leaves hashed (on all cores) while the previous page's
        // leaves go into the tree, which is sequential.
        var pending: Task<Page, any Error>? = Task { [client] in try await Self.fetchAndHash(client, from: 0) }
        while let current = pending {
            let page = try await current.value
            size = page.size
            if let next = page.next {
                pending = Task { [client] in try await Self.fetchAndHash(client, from: next) }
            } else {
                pending = nil
            }
            if progress?.total == 0 { progress?.total = page.size }
            let hashes = page.hashes
            for (n, entry) in page.entries.enumerated() {
                let hash = hashes[n]
                guard entry.index == builder.size else { throw Self.fail("leaf \(builder.size) is missing") }
                if !page.body[entry.hash].elementsEqual(hash) {
                    throw Self.fail("leaf \(entry.index) was altered: its bytes no longer match its stored hash")
                }
                if entry.index == 0 {
                    let genesis = try? LedgerLeaf(bytes: Array(page.body[entry.data]))
                    guard genesis?.type == LedgerLeaf.Kind.genesis.rawValue, genesis?.json["logKey"]?.stringValue == key.verifierKey else {
                        throw Self.fail("leaf 0 is not this vault's genesis leaf for log key \(key.verifierKey)")
                    }
                }
                builder.append(leafHash: hash)
                if !collect.isEmpty, let leaf = try? LedgerLeaf(bytes: Array(page.body[entry.data])), collect.contains(leaf.type) {
                    collected.append(leaf)
                }
                while nextCheckpoint < checkpoints.count, checkpoints[nextCheckpoint].size == builder.size {
                    guard checkpoints[nextCheckpoint].root == builder.root else {
                        throw Self.fail("checkpoint at size \(builder.size) does not match the leaves: a leaf between \(lastGood) and \(builder.size - 1) was changed")
                    }
                    lastGood = builder.size
                    nextCheckpoint += 1
                }
                if let previous, let previousRoot, previous.size == builder.size, previousRoot != builder.root {
                    throw Self.fail("the log was rewritten: its first \(previous.size) leaves no longer match the checkpoint you verified on \(previous.verifiedAt)")
                }
            }
            progress?.advance(by: Int64(page.entries.count))
        }
        guard builder.size == size else { throw Self.fail("the log reports \(size) leaves but \(builder.size) were read") }
        if nextCheckpoint < checkpoints.count {
            throw Self.fail("checkpoint at size \(checkpoints[nextCheckpoint].size) covers more leaves than the log has (\(builder.size)): leaves were deleted")
        }
        if let previous, previous.size > builder.size {
            throw Self.fail("the log was rolled back: it had \(previous.size) leaves when you verified it on \(previous.verifiedAt), now \(builder.size)")
        }

        // The gateway's own proof from what was verified last time to now must check out too.
        if let previous, let previousRoot, previous.size < latest.size {
            let proof = try await client.consistencyProof(from: previous.size, to: latest.size)
            do {
                try Merkle.verifyConsistency(first: previous.size, second: latest.size, proof: proof.hashes.compactMap { Encoding.fromBase64($0) },
                                             firstRoot: previousRoot, secondRoot: latest.root)
            } catch {
                throw Self.fail("the consistency proof from size \(previous.size) to \(latest.size) does not verify")
            }
        }

        let state = State(origin: latest.origin, verifierKey: key.verifierKey, size: latest.size, root: Encoding.base64(latest.root),
                          checkpoint: latestNote, verifiedAt: Timestamp.rfc3339(milliseconds: Timestamp.now()))
        try save(state)
        return Report(leaves: builder.size, checkpoints: checkpoints.count, latest: latest, previous: previous, collected: collected)
    }

    struct Page: Sendable {
        var body: [UInt8]
        var entries: [RawLeafPage.Entry]
        var size: Int64
        var next: Int64?
        var hashes: [Merkle.Hash]
    }

    static func fetchAndHash(_ client: AdminClient, from: Int64) async throws -> Page {
        let raw = try await client.rawLeaves(from: from)
        return Page(body: raw.body, entries: raw.entries, size: raw.size, next: raw.next, hashes: leafHashes(raw.body, raw.entries))
    }

    /// Leaf hashes of a page, computed on all cores straight from the page's bytes.
    static func leafHashes(_ body: [UInt8], _ entries: [RawLeafPage.Entry]) -> [Merkle.Hash] {
        let workers = max(1, min(8, ProcessInfo.processInfo.activeProcessorCount))
        var out = [Merkle.Hash](repeating: [], count: entries.count)
        body.withUnsafeBytes { raw in
            out.withUnsafeMutableBufferPointer { buffer in
                nonisolated(unsafe) let base = buffer
                nonisolated(unsafe) let bytes = raw
                let chunk = (entries.count + workers - 1) / workers
                DispatchQueue.concurrentPerform(iterations: workers) { w in
                    for i in (w * chunk)..<min(entries.count, (w + 1) * chunk) {
                        base[i] = Merkle.leafHash(UnsafeRawBufferPointer(rebasing: bytes[entries[i].data]))
                    }
                }
            }
        }
        return out
    }

    func save(_ state: State) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try FileIO.makeDirectories(FileIO.parentDirectory(statePath), mode: 0o700)
        try FileIO.replace(statePath, Array(try encoder.encode(state)), mode: 0o600)
    }
}
