import EdgeVaultCore

/// The person's check that the log's checkpoint is cosigned to a policy's quorum
/// (`vault-cli log verify --policy`, docs/PROTOCOL.md §"Witnesses"), and the offline check of
/// tlog-proof files (`vault-cli log verify-proof`).
public enum QuorumCheck {
    public struct Outcome: Sendable {
        public var checkpoint: Checkpoint
        /// Each policy witness that cosigned, with its cosignature's time (seconds).
        public var cosigners: [String: UInt64]
    }

    /// Reads the served checkpoint (with its cosignatures) until it carries the policy's quorum
    /// or `wait` passes, then checks it is consistent with `verified`, the checkpoint that was
    /// just verified leaf by leaf.
    public static func served(client: AdminClient, policy: TlogPolicy, logKey: SignedNote.Verifier, verified: Checkpoint,
                              wait: Duration = .seconds(5)) async throws -> Outcome {
        let deadline = ContinuousClock.now + wait
        while true {
            let r = try await client.http.send(method: .GET, path: "/v1/log/checkpoint")
            guard r.status == 200 else { throw AdminClient.problemError(r) }
            let note = String(decoding: r.body, as: UTF8.self)
            do {
                let v = try policy.verify(note: note, extraLogs: [logKey])
                try await requireConsistent(v.checkpoint, with: verified, client: client)
                return Outcome(checkpoint: v.checkpoint, cosigners: v.cosigners)
            } catch let e as VaultError where e.code == .verificationFailed && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }

    /// `cosigned` must be a prefix of the verified log.
    static func requireConsistent(_ cosigned: Checkpoint, with verified: Checkpoint, client: AdminClient) async throws {
        if cosigned.size == verified.size {
            guard cosigned.root == verified.root else {
                throw VaultError(.logInvalid, "the cosigned checkpoint at size \(cosigned.size) does not match the verified log: the log forked")
            }
            return
        }
        guard cosigned.size < verified.size else {
            throw VaultError(.logInvalid, "the cosigned checkpoint (size \(cosigned.size)) covers more than the verified log (\(verified.size))")
        }
        let proof = try await client.consistencyProof(from: cosigned.size, to: verified.size).hashes.map { text -> Merkle.Hash in
            guard let h = Encoding.fromBase64(text), h.count == 32 else { throw VaultError(.protocolError, "a consistency proof hash is not base64") }
            return h
        }
        do {
            try Merkle.verifyConsistency(first: cosigned.size, second: verified.size, proof: proof, firstRoot: cosigned.root, secondRoot: verified.root)
        } catch {
            throw VaultError(.logInvalid, "the cosigned checkpoint at size \(cosigned.size) is not consistent with the verified log: the log forked")
        }
    }

    /// One tlog-proof file checked offline: the log's signature, the policy's quorum (when
    /// given) and the inclusion of the leaf carried in `extra`.
    public struct ProofReport: Sendable {
        public var path: String
        public var checkpoint: Checkpoint
        public var leaf: LedgerLeaf
        public var index: Int64
    }

    public static func verifyProofs(paths: [String], logKey: SignedNote.Verifier, policy: TlogPolicy?) throws -> [ProofReport] {
        var reports: [ProofReport] = []
        for path in paths {
            let bytes = try FileIO.read(path, limit: TlogProof.maxBytes + 1)
            do {
                let receipt = try Receipt(tlogProof: try TlogProof(text: String(decoding: bytes, as: UTF8.self)))
                let v = try receipt.verify(logKey: logKey, policy: policy)
                reports.append(ProofReport(path: path, checkpoint: v.checkpoint, leaf: v.leaf, index: receipt.index))
            } catch let e as VaultError {
                throw VaultError(.verificationFailed, "\(path): \(e.message)")
            } catch {
                throw VaultError(.verificationFailed, "\(path): the leaf in its extra line is not a ledger entry (a JSON object with type, time and salt)")
            }
        }
        // Two checkpoints of one size with different roots are two versions of the log: proof
        // of a fork, whoever signed them.
        for (i, a) in reports.enumerated() {
            for b in reports[(i + 1)...] where a.checkpoint.size == b.checkpoint.size && a.checkpoint.root != b.checkpoint.root {
                throw VaultError(.verificationFailed, "\(a.path) and \(b.path) hold two different checkpoints of size \(a.checkpoint.size), "
                                 + "both signed by \(logKey.name): the log forked")
            }
        }
        return reports
    }
}
