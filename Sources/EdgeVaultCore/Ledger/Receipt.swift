/// Everything a party needs to check, offline, that a leaf is in the vault's log: the leaf
/// bytes, its index, the inclusion proof and the signed checkpoint it is proven against.
public struct Receipt: Codable, Sendable, Equatable {
    public var index: Int64
    /// The leaf's exact bytes, standard base64.
    public var leaf: String
    /// The RFC 9162 inclusion proof, hashes in standard base64.
    public var proof: [String]
    /// The C2SP signed checkpoint.
    public var checkpoint: String

    public init(index: Int64, leaf: String, proof: [String], checkpoint: String) {
        self.index = index
        self.leaf = leaf
        self.proof = proof
        self.checkpoint = checkpoint
    }

    public struct Verified: Sendable {
        public var checkpoint: Checkpoint
        public var leaf: LedgerLeaf
    }

    /// Checks the checkpoint's signature with the vault's log key and the leaf's inclusion.
    public func verify(logKey: SignedNote.Verifier) throws -> Verified {
        let cp = try Checkpoint.open(checkpoint, verifier: logKey)
        guard let bytes = Encoding.fromBase64(leaf) else { throw VaultError(.protocolError, "receipt leaf is not base64") }
        let hashes = try proof.map { text -> Merkle.Hash in
            guard let h = Encoding.fromBase64(text), h.count == 32 else { throw Merkle.ProofError.invalid }
            return h
        }
        do {
            try Merkle.verifyInclusion(leafHash: Merkle.leafHash(bytes), index: index, size: cp.size, proof: hashes, root: cp.root)
        } catch {
            throw VaultError(.protocolError, "the receipt's inclusion proof does not verify against checkpoint \(cp.size)")
        }
        return Verified(checkpoint: cp, leaf: try LedgerLeaf(bytes: bytes))
    }
}
