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

    /// Checks the checkpoint's signature with the vault's log key (and its cosignatures against
    /// `policy`, when given) and the leaf's inclusion: the receipt read as a tlog-proof.
    public func verify(logKey: SignedNote.Verifier, policy: TlogPolicy? = nil) throws -> Verified {
        let p = try tlogProof
        let bytes = p.extra ?? []
        let cp = try p.verify(leafHash: Merkle.leafHash(bytes), logKey: logKey, policy: policy)
        return Verified(checkpoint: cp, leaf: try LedgerLeaf(bytes: bytes))
    }
}
