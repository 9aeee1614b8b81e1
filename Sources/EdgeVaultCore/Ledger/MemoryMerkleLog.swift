/// A Merkle log in memory, its subtree hashes stored as the vault's database stores them: for
/// tests, benchmarks and tools that play a log (a witness's tests submit its checkpoints).
public struct MemoryMerkleLog: MerkleHashReader, Sendable {
    public private(set) var stored: [Merkle.NodeID: Merkle.Hash] = [:]
    public private(set) var size: Int64 = 0

    public init(leafHashes: [Merkle.Hash] = []) {
        for h in leafHashes { append(h) }
    }

    public mutating func append(_ leafHash: Merkle.Hash) {
        let current = stored
        for (id, h) in Merkle.hashesToStore(index: size, leafHash: leafHash, left: { current[$0]! }) {
            stored[id] = h
        }
        size += 1
    }

    public func hashes(_ ids: [Merkle.NodeID]) throws -> [Merkle.Hash] {
        try ids.map { id in
            guard let h = stored[id] else { throw Merkle.ProofError(message: "missing \(id)") }
            return h
        }
    }

    /// The root of the first `size` leaves.
    public func root(_ size: Int64) throws -> Merkle.Hash { try Merkle.treeHash(size: size, reader: self) }

    /// The consistency proof from `old` to `new` (empty from 0 or to the same size).
    public func consistency(_ old: Int64, _ new: Int64) throws -> [Merkle.Hash] {
        old == 0 || old == new ? [] : try Merkle.consistencyProof(first: old, second: new, reader: self)
    }
}
