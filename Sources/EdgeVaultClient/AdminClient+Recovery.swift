import EdgeVaultCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The person's side of recording a recovery policy (`vault-cli recovery split`, `recovery
/// record`): signed with the person's key, checked by the daemon against the user key fixed at
/// init, appended as a `recovery.policy` leaf (docs/PROTOCOL.md §"Key recovery").
extension AdminClient {
    /// Signs and sends the policy, after checking `keys` are this vault's.
    public func recordRecoveryPolicy(groupThreshold: Int, groups: [RecoveryPolicy.Group], passphrase: Bool,
                                     keys: UserKeys) async throws -> AdminAPI.RecoveryPolicyResult {
        let vault = try await vault()
        try keys.requireOwner(of: vault)
        let jws = RecoveryPolicy.make(vault: vault.origin, groupThreshold: groupThreshold, groups: groups, passphrase: passphrase,
                                      at: Timestamp.now(), keys: keys)
        let input = AdminAPI.RecoveryPolicyInput(policy: String(decoding: jws.serialized(), as: UTF8.self))
        return try await post("/v1/recovery/policy", body: Array(try JSONEncoder().encode(input)), contentType: "application/json",
                              as: AdminAPI.RecoveryPolicyResult.self)
    }

    /// Leaves shares sealed to peers with them, through vaultd (which holds the witness key they know).
    public func deliverRecoveryShares(_ shares: [AdminAPI.RecoverySharesInput.Item]) async throws -> AdminAPI.RecoverySharesResult {
        try await post("/v1/recovery/peer-shares", body: Array(try JSONEncoder().encode(AdminAPI.RecoverySharesInput(shares: shares))),
                       contentType: "application/json", as: AdminAPI.RecoverySharesResult.self)
    }

    /// Opens the recovery share the peer named `peer` left with this vault.
    public func openRecoveryShare(peer: String) async throws -> AdminAPI.OpenShareResult {
        try await post("/v1/recovery/held-shares/open", body: Array(try JSONEncoder().encode(AdminAPI.OpenShareInput(peer: peer))),
                       contentType: "application/json", as: AdminAPI.OpenShareResult.self)
    }
}
