import EdgeVaultCore

/// Which cosignatures make a checkpoint of this vault's log count as witnessed
/// (`quorum.required`, docs/PROTOCOL.md §"Witnesses"): the C2SP tlog-policy file
/// `quorum.policy` when given, else every witness the vault submits to.
struct QuorumRule: Sendable {
    let policy: TlogPolicy?

    init(policyFile: String?) throws {
        policy = try policyFile.map { try TlogPolicy.load(path: $0) }
    }

    /// Whether the witnesses of `cosigned` (verifier key texts) meet the quorum; `targets` are
    /// the vault's witnesses now. No witness at all never meets it: fail closed.
    func isMet(by cosigned: Set<String>, targets: [String]) -> Bool {
        if let policy {
            let names = Set(policy.witnesses.filter { cosigned.contains($0.key.text) }.map(\.name))
            return policy.check(policy.quorum, cosigned: names) == nil
        }
        return !targets.isEmpty && targets.allSatisfy(cosigned.contains)
    }
}
