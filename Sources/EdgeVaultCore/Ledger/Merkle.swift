/// RFC 6962 / RFC 9162 Merkle tree hashing, proofs and their verification: pure functions
/// over hashes. Stored hashes are read through `MerkleHashReader`, one narrow method a test
/// can fake with an array (the shape of Go's `sumdb/tlog`).
///
/// A stored hash is the root of a *complete* subtree: level `L`, index `K` covers leaves
/// `[K·2^L, (K+1)·2^L)`. Every proof below reads O(log n) of them.
public enum Merkle {
    public typealias Hash = [UInt8]

    /// A complete subtree: `level` (0 = a leaf) and its index at that level.
    public struct NodeID: Hashable, Sendable, CustomStringConvertible {
        public let level: Int
        public let index: Int64

        public init(level: Int, index: Int64) {
            self.level = level
            self.index = index
        }

        public var description: String { "(\(level),\(index))" }
    }

    /// Why a proof or a tree head failed. Deliberately unspecific, like `sumdb/tlog`.
    public struct ProofError: Error, Equatable, Sendable, CustomStringConvertible {
        public let message: String
        public var description: String { message }
        static let invalid = ProofError(message: "invalid proof")

        package init(message: String) {
            self.message = message
        }
    }

    /// The root of the empty tree: SHA-256 of the empty string (RFC 9162 §2.1.1).
    public static let emptyRoot: Hash = EdgeVaultCore.Hash.sha256([])

    /// RFC 9162 §2.1.1: `SHA-256(0x00 ‖ data)`.
    public static func leafHash(_ data: [UInt8]) -> Hash {
        data.withUnsafeBytes { leafHash($0) }
    }

    public static func leafHash(_ data: UnsafeRawBufferPointer) -> Hash {
        var h = SHA256Hasher()
        withUnsafeBytes(of: UInt8(0x00)) { h.update($0) }
        h.update(data)
        return h.finalize()
    }

    /// RFC 9162 §2.1.1: `SHA-256(0x01 ‖ left ‖ right)`.
    public static func nodeHash(_ left: Hash, _ right: Hash) -> Hash {
        var h = SHA256Hasher()
        withUnsafeBytes(of: UInt8(0x01)) { h.update($0) }
        h.update(left)
        h.update(right)
        return h.finalize()
    }

    /// The complete subtrees that cover `[lo, hi)`, left to right, largest first.
    /// `lo` must be aligned as the RFC's recursive split leaves it (a multiple of the first
    /// subtree's size), which holds for every range the proofs below ask for.
    public static func subtrees(from lo: Int64, to hi: Int64) -> [NodeID] {
        var ids: [NodeID] = []
        var lo = lo
        while lo < hi {
            var level = 0
            while level < 62 {
                let size = Int64(1) << (level + 1)
                if lo % size != 0 || lo + size > hi { break }
                level += 1
            }
            ids.append(NodeID(level: level, index: lo >> level))
            lo += Int64(1) << level
        }
        return ids
    }

    /// MTH of a range from its complete subtrees' hashes (folded right to left, as the
    /// recursive definition in RFC 9162 §2.1.1 splits).
    public static func fold(_ hashes: [Hash]) -> Hash {
        guard var h = hashes.last else { return emptyRoot }
        for left in hashes.dropLast().reversed() { h = nodeHash(left, h) }
        return h
    }

    /// The largest power of two strictly less than `n` (n > 1).
    static func splitPoint(_ n: Int64) -> Int64 {
        var k: Int64 = 1
        while k << 1 < n { k <<= 1 }
        return k
    }

    /// The root of the tree of the first `size` leaves.
    public static func treeHash(size: Int64, reader: some MerkleHashReader) throws -> Hash {
        guard size > 0 else { return emptyRoot }
        let ids = subtrees(from: 0, to: size)
        return fold(try reader.hashes(ids))
    }

    /// RFC 9162 §2.1.3.1: the audit path of leaf `index` in the tree of `size` leaves.
    public static func inclusionProof(index: Int64, size: Int64, reader: some MerkleHashReader) throws -> [Hash] {
        guard index >= 0, index < size else { throw ProofError(message: "index \(index) is not below size \(size)") }
        var ranges: [[NodeID]] = []
        func path(_ m: Int64, _ lo: Int64, _ hi: Int64) {
            guard hi - lo > 1 else { return }
            let k = splitPoint(hi - lo)
            if m < lo + k {
                path(m, lo, lo + k)
                ranges.append(subtrees(from: lo + k, to: hi))
            } else {
                path(m, lo + k, hi)
                ranges.append(subtrees(from: lo, to: lo + k))
            }
        }
        path(index, 0, size)
        return try resolve(ranges, reader: reader)
    }

    /// RFC 9162 §2.1.4.1: the consistency proof between the trees of `first` and `second` leaves.
    public static func consistencyProof(first: Int64, second: Int64, reader: some MerkleHashReader) throws -> [Hash] {
        guard first > 0, first <= second else { throw ProofError(message: "need 0 < from ≤ to, got \(first), \(second)") }
        var ranges: [[NodeID]] = []
        func subproof(_ m: Int64, _ lo: Int64, _ hi: Int64, _ complete: Bool) {
            let n = hi - lo
            if m == n {
                if !complete { ranges.append(subtrees(from: lo, to: hi)) }
                return
            }
            let k = splitPoint(n)
            if m <= k {
                subproof(m, lo, lo + k, complete)
                ranges.append(subtrees(from: lo + k, to: hi))
            } else {
                subproof(m - k, lo + k, hi, false)
                ranges.append(subtrees(from: lo, to: lo + k))
            }
        }
        subproof(first, 0, second, true)
        return try resolve(ranges, reader: reader)
    }

    /// Reads every needed stored hash in one call and folds each range.
    static func resolve(_ ranges: [[NodeID]], reader: some MerkleHashReader) throws -> [Hash] {
        let all = ranges.flatMap { $0 }
        let hashes = try reader.hashes(all)
        guard hashes.count == all.count else { throw ProofError(message: "missing stored hashes") }
        var out: [Hash] = []
        var i = 0
        for r in ranges {
            out.append(fold(Array(hashes[i..<i + r.count])))
            i += r.count
        }
        return out
    }

    /// RFC 9162 §2.1.3.2: checks that `leafHash` is at `index` in the tree with `root`.
    public static func verifyInclusion(leafHash: Hash, index: Int64, size: Int64, proof: [Hash], root: Hash) throws {
        guard index >= 0, index < size else { throw ProofError.invalid }
        var fn = index, sn = size - 1
        var r = leafHash
        for p in proof {
            guard sn != 0, p.count == 32 else { throw ProofError.invalid }
            if fn & 1 == 1 || fn == sn {
                r = nodeHash(p, r)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                r = nodeHash(r, p)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, r == root else { throw ProofError.invalid }
    }

    /// RFC 9162 §2.1.4.2: checks that the tree (`second`, `secondRoot`) extends (`first`, `firstRoot`).
    public static func verifyConsistency(first: Int64, second: Int64, proof: [Hash], firstRoot: Hash, secondRoot: Hash) throws {
        guard first > 0, first <= second else { throw ProofError.invalid }
        if first == second {
            guard proof.isEmpty, firstRoot == secondRoot else { throw ProofError.invalid }
            return
        }
        guard !proof.isEmpty, proof.allSatisfy({ $0.count == 32 }) else { throw ProofError.invalid }
        var path = proof
        if first & (first - 1) == 0 { path.insert(firstRoot, at: 0) }
        var fn = first - 1, sn = second - 1
        while fn & 1 == 1 {
            fn >>= 1
            sn >>= 1
        }
        var fr = path[0], sr = path[0]
        for c in path.dropFirst() {
            guard sn != 0 else { throw ProofError.invalid }
            if fn & 1 == 1 || fn == sn {
                fr = nodeHash(c, fr)
                sr = nodeHash(c, sr)
                if fn & 1 == 0 {
                    while fn & 1 == 0 && fn != 0 {
                        fn >>= 1
                        sn >>= 1
                    }
                }
            } else {
                sr = nodeHash(sr, c)
            }
            fn >>= 1
            sn >>= 1
        }
        guard sn == 0, fr == firstRoot, sr == secondRoot else { throw ProofError.invalid }
    }

    /// The stored hashes that appending leaf `index` creates: its leaf hash, then each complete
    /// subtree it closes. `left` gives the stored hash a new parent needs (its left sibling).
    public static func hashesToStore(index: Int64, leafHash: Hash, left: (NodeID) throws -> Hash) rethrows -> [(NodeID, Hash)] {
        var out: [(NodeID, Hash)] = [(NodeID(level: 0, index: index), leafHash)]
        var h = leafHash
        var level = 0
        var i = index
        while i & 1 == 1 {
            h = nodeHash(try left(NodeID(level: level, index: i - 1)), h)
            level += 1
            i >>= 1
            out.append((NodeID(level: level, index: i), h))
        }
        return out
    }
}

/// Reads stored subtree hashes by id, in the order asked.
public protocol MerkleHashReader {
    func hashes(_ ids: [Merkle.NodeID]) throws -> [Merkle.Hash]
}

/// Computes tree roots incrementally while leaves stream past (a compact range from 0):
/// O(log n) memory, used by full log verification.
public struct MerkleTreeBuilder: Sendable {
    /// Complete subtrees of the prefix seen so far, largest (leftmost) first.
    private var stack: [(level: Int, hash: Merkle.Hash)] = []
    public private(set) var size: Int64 = 0

    public init() {}

    public mutating func append(leafHash: Merkle.Hash) {
        var h = leafHash
        var level = 0
        while let last = stack.last, last.level == level {
            stack.removeLast()
            h = Merkle.nodeHash(last.hash, h)
            level += 1
        }
        stack.append((level, h))
        size += 1
    }

    /// The root of the tree of every leaf appended so far.
    public var root: Merkle.Hash { Merkle.fold(stack.map(\.hash)) }
}

