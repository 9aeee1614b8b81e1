import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultFragments
import Synchronization

/// Audits and repairs (docs/PROTOCOL.md §"Fragments").
extension FragmentService {
    /// How one share answered.
    enum Answer: Sendable {
        case healthy
        /// It answered, wrongly (a corrupt share, or a holder that does not keep it).
        case wrong(String)
        /// It did not answer (gone, refusing).
        case unreachable(String)
        /// Its holder was busy (429) after three tries: neither healthy nor failed, so a peer
        /// flooding a holder cannot fake failures that trigger repairs.
        case busy(String)

        var isHealthy: Bool { if case .healthy = self { return true } else { return false } }
        var isBusy: Bool { if case .busy = self { return true } else { return false } }
    }

    /// How a busy answer is recorded (the next audit tells a second one in a row by it).
    static let busyPrefix = "busy: "

    /// Sets challenged at once, and how long one holder may take to answer an audit.
    static let auditParallelSets = 4
    static let auditTimeoutSeconds: Int64 = 30

    /// Holders that did not answer during one audit run: their other shares are not asked again
    /// (a holder that never answers costs one timeout, not one per share).
    final class Unreachable: Sendable {
        private let gone = Mutex<Set<String>>([])
        func contains(_ peer: String) -> Bool { gone.withLock { $0.contains(peer) } }
        func insert(_ peer: String) { _ = gone.withLock { $0.insert(peer) } }
    }

    /// Challenges every share of every live set (in parallel), records each answer, and
    /// repairs each set left with fewer than k + 1 healthy shares.
    public func audit() async throws -> AdminAPI.FragmentsAuditResult {
        try await exclusive { try await auditNow() }
    }

    func auditNow() async throws -> AdminAPI.FragmentsAuditResult {
        let sets = try await store.fragmentSets().filter { $0.replacedBy == nil }
        let names = Dictionary(try await store.peers().map { ($0.origin, $0.name) }, uniquingKeysWith: { a, _ in a })
        var result = AdminAPI.FragmentsAuditResult(sets: sets.count, shares: 0, healthy: 0, failures: [], repairs: [])
        // Every set's challenges first, a few sets at a time; then the answers are recorded and
        // the sets that need it repaired, one by one.
        let unreachable = Unreachable()
        var allAnswers: [Int: [Int: Answer]] = [:]
        for start in stride(from: 0, to: sets.count, by: Self.auditParallelSets) {
            let batch = Array(sets.enumerated())[start..<min(start + Self.auditParallelSets, sets.count)]
            await withTaskGroup(of: (Int, [Int: Answer]).self) { group in
                for (i, set) in batch { group.addTask { (i, await self.challenge(set, unreachable: unreachable)) } }
                for await (i, answers) in group { allAnswers[i] = answers }
            }
        }
        for (i, set) in sets.enumerated() {
            let answers = allAnswers[i] ?? [:]
            result.shares += set.shares.count
            var healthy: [Int] = []
            for share in set.shares {
                let answer = answers[share.n] ?? .unreachable("not asked")
                switch answer {
                case .healthy: healthy.append(share.n)
                case .wrong(let why), .unreachable(let why), .busy(let why):
                    result.failures.append("\(set.storageIndex)/\(share.n) on \(names[share.peer] ?? share.peer): \(why)")
                }
                let error: String? = switch answer { case .healthy: nil; case .wrong(let w), .unreachable(let w), .busy(let w): w }
                try await store.recordShareAudit(storageIndex: set.storageIndex, n: share.n, healthy: answer.isHealthy, error: error, now: Timestamp.now())
            }
            result.healthy += healthy.count
            // Busy now but not at the last audit: neither healthy nor failed. Busy twice in a
            // row: failed (a holder cannot stay "busy" forever to hide lost shares).
            let busy = set.shares.filter { answers[$0.n]?.isBusy == true && !($0.lastError?.hasPrefix(Self.busyPrefix) ?? false) }.count
            guard healthy.count + busy < set.k + 1 else { continue }
            do {
                let new = try await repair(set, answers: answers)
                result.repairs.append(.init(replaced: set.storageIndex, by: new.storageIndex, error: nil))
            } catch {
                logger.critical("a fragment set cannot be repaired", metadata: ["storageIndex": "\(set.storageIndex)", "error": "\(error)"])
                result.repairs.append(.init(replaced: set.storageIndex, by: nil, error: "\(error)"))
            }
        }
        if !result.failures.isEmpty {
            logger.warning("fragment audit: shares failed", metadata: ["failed": "\(result.failures.count)", "of": "\(result.shares)"])
        }
        return result
    }

    /// Asks each share's holder for SHA-256(nonce ‖ share) with a challenge computed from the
    /// share; with none left, fetches the share, checks its hash and makes new challenges.
    func challenge(_ set: FragmentSet, unreachable: Unreachable) async -> [Int: Answer] {
        await withTaskGroup(of: (Int, Answer).self) { group in
            for share in set.shares {
                var client = client(share)
                client.timeout = Self.auditTimeoutSeconds
                let store = self.store
                group.addTask {
                    if unreachable.contains(share.peer) { return (share.n, .unreachable("did not answer earlier in this audit")) }
                    do {
                        if let c = try await store.takeChallenge(storageIndex: set.storageIndex, n: share.n) {
                            let proof = try await client.audit(storageIndex: set.storageIndex, n: share.n, nonce: c.nonce)
                            return (share.n, Sodium.constantTimeEquals(proof, c.proof) ? .healthy : .wrong("the audit answer is wrong (the share is altered or gone)"))
                        }
                        let bytes = try await client.get(storageIndex: set.storageIndex, n: share.n, length: PeerShareProtocol.shareLength(size: set.size, k: set.k))
                        guard Encoding.base64(Hash.sha256(bytes)) == share.sha256 else { return (share.n, .wrong("the share's bytes do not match its hash")) }
                        try await store.addChallenges(Self.challenges(for: bytes), storageIndex: set.storageIndex, n: share.n)
                        return (share.n, .healthy)
                    } catch let f as PeerShareClient.Failure {
                        if f.status == 429 { return (share.n, .busy(Self.busyPrefix + f.description)) }
                        if f.status == 0 { unreachable.insert(share.peer) }
                        return (share.n, f.status == 0 || f.status >= 500 ? .unreachable(f.description) : .wrong(f.description))
                    } catch {
                        return (share.n, .unreachable("\(error)"))
                    }
                }
            }
            var answers: [Int: Answer] = [:]
            for await (n, a) in group { answers[n] = a }
            return answers
        }
    }

    /// Fetches the set's healthy shares until k check out, decodes and checks the whole, and
    /// places it again as a new set (a `fragments.placed` leaf with `replaces`). The new set
    /// goes to the peers that answered, those whose shares were all healthy first; with fewer
    /// of them than the set's n needs, n shrinks to what they can hold without any holding k
    /// shares (at least k + 1 shares).
    func repair(_ set: FragmentSet, answers: [Int: Answer]) async throws -> FragmentSet {
        var shares: [Int: [UInt8]] = [:]
        for share in set.shares where answers[share.n]?.isHealthy == true && shares.count < set.k {
            let client = client(share)
            guard let bytes = try? await client.get(storageIndex: set.storageIndex, n: share.n, length: PeerShareProtocol.shareLength(size: set.size, k: set.k)),
                  Encoding.base64(Hash.sha256(bytes)) == share.sha256 else { continue }
            shares[share.n] = bytes
        }
        guard shares.count == set.k else {
            throw VaultError(.fragmentInvalid, "only \(shares.count) of the \(set.k) shares needed could be fetched intact")
        }
        let bytes = try ErasureCoder(k: set.k, n: set.n).decode(shares: shares, size: set.size)
        guard Encoding.base64(Hash.sha256(bytes)) == set.sha256 else { throw VaultError(.fragmentInvalid, "the decoded set does not match its hash") }
        let unreachable = Set(set.shares.filter { if case .unreachable = answers[$0.n] { return true } else { return false } }.map(\.peer))
        let wrong = Set(set.shares.filter { if case .wrong = answers[$0.n] { return true } else { return false } }.map(\.peer))
        let candidates = try await holders().filter { !unreachable.contains($0.origin) }
        let holders = candidates.filter { !wrong.contains($0.origin) } + candidates.filter { wrong.contains($0.origin) }
        let n = min(set.n, holders.count * (set.k - 1))
        guard n > set.k else {
            throw VaultError(.tooFewPeers, "\(holders.count) peers answer: too few to hold a \(set.k)-of-n set with no peer holding \(set.k) shares")
        }
        let placed = try await place(bytes, coder: try ErasureCoder(k: set.k, n: n), holders: holders, push: set.push, segment: set.segment,
                                     segments: set.segments, replaces: set.storageIndex)
        logger.notice("fragment set repaired", metadata: ["replaced": "\(set.storageIndex)", "by": "\(placed.storageIndex)", "n": "\(n)"])
        return placed
    }
}
