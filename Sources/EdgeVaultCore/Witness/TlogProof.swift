/// c2sp.org/tlog-proof@v1: an offline proof that an entry is in a log, with the checkpoint
/// (and its cosignatures) verbatim (docs/PROTOCOL.md §"Witnesses").
///
/// ```
/// c2sp.org/tlog-proof@v1
/// extra <base64>          (optional)
/// index <N>
/// <base64 hash>           (0…63 inclusion proof lines, leaf's sibling first)
///
/// <signed checkpoint note>
/// ```
/// The leaf itself is not part of the format; EdgeVault's receipts carry the leaf's exact
/// bytes in `extra` so a verifier can hash it (and must still check what it says).
public struct TlogProof: Sendable, Equatable {
    public static let header = "c2sp.org/tlog-proof@v1"
    /// A proof of a tree below 2^63 leaves has at most 63 hashes.
    public static let maxProofLines = 63
    /// The extra data, the proof and the note (≤ `SignedNote.maxBytes`) together.
    public static let maxBytes = 2 * SignedNote.maxBytes

    public var extra: [UInt8]?
    public var index: Int64
    public var proof: [Merkle.Hash]
    /// The signed checkpoint note, verbatim.
    public var checkpoint: String

    public init(extra: [UInt8]? = nil, index: Int64, proof: [Merkle.Hash], checkpoint: String) {
        self.extra = extra
        self.index = index
        self.proof = proof
        self.checkpoint = checkpoint
    }

    /// The file text (extension `.tlog-proof`).
    public var text: String {
        Self.header + "\n" + (extra.map { "extra \(Encoding.base64($0))\n" } ?? "") + "index \(index)\n"
            + proof.map { Encoding.base64($0) + "\n" }.joined() + "\n" + checkpoint
    }

    public init(text: String) throws {
        func bad(_ m: String) -> VaultError { VaultError(.protocolError, "malformed tlog-proof: \(m)") }
        guard text.utf8.count <= Self.maxBytes else { throw bad("over \(Self.maxBytes) bytes") }
        var lines = text.split(separator: "\n", maxSplits: Self.maxProofLines + 4, omittingEmptySubsequences: false)[...]
        guard lines.popFirst() == Substring(Self.header) else { throw bad("the first line is not \(Self.header)") }
        var extra: [UInt8]?
        if let l = lines.first, l.hasPrefix("extra ") {
            guard let e = Encoding.fromBase64(l.dropFirst(6)) else { throw bad("extra is not base64") }
            extra = e
            lines.removeFirst()
        }
        guard let l = lines.popFirst(), l.hasPrefix("index "), let index = AddCheckpointRequest.decimal(l.dropFirst(6)) else {
            throw bad("no `index <N>` line")
        }
        var proof: [Merkle.Hash] = []
        while let l = lines.popFirst(), !l.isEmpty {
            guard proof.count < Self.maxProofLines else { throw bad("more than \(Self.maxProofLines) proof lines") }
            guard let h = Encoding.fromBase64(l), h.count == 32 else { throw bad("a proof line is not a base64 hash") }
            proof.append(h)
        }
        guard !lines.isEmpty else { throw bad("no checkpoint") }
        self.init(extra: extra, index: index, proof: proof, checkpoint: lines.joined(separator: "\n"))
        _ = try SignedNote.parse(checkpoint)
    }

    /// Verifies the checkpoint's log signature with `logKey` (its name must be the origin),
    /// the policy's quorum when `policy` is given, and the inclusion of `leafHash` at `index`.
    public func verify(leafHash: Merkle.Hash, logKey: SignedNote.Verifier, policy: TlogPolicy? = nil) throws -> Checkpoint {
        let cp = try Checkpoint.open(checkpoint, verifier: logKey)
        if let policy { _ = try policy.verify(note: checkpoint, extraLogs: [logKey]) }
        do {
            try Merkle.verifyInclusion(leafHash: leafHash, index: index, size: cp.size, proof: proof, root: cp.root)
        } catch {
            throw VaultError(.protocolError, "the inclusion proof of entry \(index) does not verify against checkpoint \(cp.size)")
        }
        return cp
    }
}

extension Receipt {
    /// The receipt as a tlog-proof: the leaf's exact bytes in `extra`.
    public var tlogProof: TlogProof {
        get throws {
            guard let leafBytes = Encoding.fromBase64(leaf) else { throw VaultError(.protocolError, "receipt leaf is not base64") }
            let hashes = try proof.map { text -> Merkle.Hash in
                guard let h = Encoding.fromBase64(text), h.count == 32 else { throw VaultError(.protocolError, "receipt proof hash is not base64") }
                return h
            }
            return TlogProof(extra: leafBytes, index: index, proof: hashes, checkpoint: checkpoint)
        }
    }

    /// A receipt from a tlog-proof whose `extra` holds the leaf's bytes.
    public init(tlogProof p: TlogProof) throws {
        guard let leafBytes = p.extra else { throw VaultError(.protocolError, "the tlog-proof has no extra line holding the leaf") }
        self.init(index: p.index, leaf: Encoding.base64(leafBytes), proof: p.proof.map { Encoding.base64($0) }, checkpoint: p.checkpoint)
    }
}
