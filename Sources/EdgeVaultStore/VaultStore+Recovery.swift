import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The person's recorded SLIP-0039 split policies (docs/PROTOCOL.md §"Key recovery").
extension VaultStore {
    /// Records the person's checked recovery policy in one transaction: the `recovery.policy`
    /// leaf (groups and thresholds, never a share) and the signed document. Refuses a policy
    /// signed for another vault, outside the time window, or not newer than the last one (a replay).
    public func applyRecoveryPolicy(_ policy: RecoveryPolicy.Checked, jws: [UInt8], now: Int64) async throws -> Int64 {
        try await write("record the recovery policy") { db in
            try Self.checkSignedChange(db, what: "recovery policy", vault: policy.vault, at: policy.at, now: now,
                                       lastAt: "SELECT max(at) FROM recovery_policy", invalid: .recoveryPolicyInvalid, replay: .recoveryPolicyInvalid)
            let fields: [String: JSONValue] = [
                "groupThreshold": .number(String(policy.groupThreshold)),
                "groups": RecoveryPolicy.json(policy.groups),
                "passphrase": .bool(policy.passphrase),
                "policySha256": .string(Encoding.base64(Hash.sha256(jws))),
                "signedAt": .string(Timestamp.rfc3339(milliseconds: policy.at)),
            ]
            let index = try Self.appendLeaf(LedgerLeaf(kind: .recoveryPolicy, fields: fields, time: now), in: db)
            try db.execute(sql: "INSERT INTO recovery_policy (leafIndex, at, jws) VALUES (?, ?, ?)",
                           arguments: [index, policy.at, Data(jws)])
            return index
        }
    }
}
