/// What a vault leaves with every holder of a set (docs/PROTOCOL.md §"Fragments", "Deposits"):
/// the set's `fragments.placed` leaf with what proves it belongs to the person's log: the vault's
/// genesis leaf (its person's signature binds origin and log key), a checkpoint signed by that
/// log key, and the leaf's inclusion proof in it. A holder keeps only deposits that verify with
/// the owner key the shares named; the person, restoring, trusts only deposits that verify with
/// their own key. A peer can withhold deposits, not forge one.
public struct FragmentDeposit: Sendable, Equatable {
    public var leafIndex: Int64
    /// The `fragments.placed` leaf's exact bytes.
    public var leaf: [UInt8]
    /// The vault's genesis leaf's exact bytes.
    public var genesis: [UInt8]
    /// A checkpoint of the vault's log (signed note) of a size above `leafIndex`.
    public var checkpoint: String
    /// RFC 9162 inclusion proof of the leaf in that checkpoint's tree.
    public var proof: [Merkle.Hash]

    /// The largest deposit a holder takes (a real one is about 3 KB; a set of 255 shares with
    /// long URLs stays below this).
    public static let maxBytes = 64 * 1024
    /// A page of `GET /v1/peer/sets`: at most this many bytes of deposits, or `pageCount` of them.
    public static let pageBytes = 4 << 20
    public static let pageCount = 1000

    public init(leafIndex: Int64, leaf: [UInt8], genesis: [UInt8], checkpoint: String, proof: [Merkle.Hash]) {
        self.leafIndex = leafIndex
        self.leaf = leaf
        self.genesis = genesis
        self.checkpoint = checkpoint
        self.proof = proof
    }

    public var json: JSONValue {
        .object([
            "leafIndex": .number("\(leafIndex)"), "leaf": .string(Encoding.base64(leaf)), "genesis": .string(Encoding.base64(genesis)),
            "checkpoint": .string(checkpoint), "proof": .array(proof.map { .string(Encoding.base64($0)) }),
        ])
    }

    public init(json: JSONValue) throws {
        let shape = VaultError(.fragmentInvalid, "a deposit is {\"leafIndex\", \"leaf\", \"genesis\", \"checkpoint\", \"proof\": [base64 hashes]}")
        guard case .number(let n)? = json["leafIndex"], let index = Int64(n), index >= 0,
              let leaf = json["leaf"]?.stringValue.flatMap(Encoding.fromBase64), leaf.count <= LedgerLeaf.maxBytes,
              let genesis = json["genesis"]?.stringValue.flatMap(Encoding.fromBase64), genesis.count <= LedgerLeaf.maxBytes,
              let checkpoint = json["checkpoint"]?.stringValue, checkpoint.utf8.count <= 64 * 1024,
              case .array(let items)? = json["proof"], items.count <= 64 else { throw shape }
        let proof = items.compactMap { $0.stringValue.flatMap(Encoding.fromBase64) }
        guard proof.count == items.count, proof.allSatisfy({ $0.count == 32 }) else { throw shape }
        self.init(leafIndex: index, leaf: leaf, genesis: genesis, checkpoint: checkpoint, proof: proof)
    }

    public struct Verified: Sendable {
        public var vault: VaultBinding.Bound
        public var leaf: LedgerLeaf
        /// The size of the checkpoint that includes the leaf.
        public var checkpointSize: Int64
    }

    /// Checks the whole chain from `owner` (the person's Ed25519 key) to the leaf: the genesis
    /// leaf's person signature, the checkpoint's log-key signature, the inclusion proof, and
    /// that the leaf is a `fragments.placed` leaf.
    public func verify(owner: [UInt8]) throws -> Verified {
        let vault = try VaultBinding.verify(genesis: genesis, owner: owner)
        let checkpoint: Checkpoint
        do {
            checkpoint = try Checkpoint.open(self.checkpoint, verifier: try SignedNote.Verifier(vault.logKey))
        } catch {
            throw VaultError(.fragmentInvalid, "the deposit's checkpoint is not signed by the vault's log key")
        }
        guard leafIndex < checkpoint.size else { throw VaultError(.fragmentInvalid, "the deposit's checkpoint does not cover leaf \(leafIndex)") }
        do {
            try Merkle.verifyInclusion(leafHash: Merkle.leafHash(leaf), index: leafIndex, size: checkpoint.size, proof: proof, root: checkpoint.root)
        } catch {
            throw VaultError(.fragmentInvalid, "the deposit's leaf is not in the vault's log at index \(leafIndex)")
        }
        guard let parsed = try? LedgerLeaf(bytes: leaf), parsed.type == LedgerLeaf.Kind.fragmentsPlaced.rawValue else {
            throw VaultError(.fragmentInvalid, "the deposit's leaf is not a fragments.placed leaf")
        }
        return Verified(vault: vault, leaf: parsed, checkpointSize: checkpoint.size)
    }
}
