import EdgeVaultCore
/// The person's side of peer changes (`vault-cli peer add/remove`, `vault-cli witness
/// add-log`): signed with the person's key, checked by the daemon against the user key fixed at
/// init (docs/PROTOCOL.md §"Peers").
public struct PeerChanger {
    let client: AdminClient
    let keys: UserKeys
    let vault: AdminAPI.VaultInfo

    public init(client: AdminClient, keys: UserKeys, vault: AdminAPI.VaultInfo) throws {
        try keys.requireOwner(of: vault)
        self.client = client
        self.keys = keys
        self.vault = vault
    }

    /// Adds an EdgeVault peer (`witnessKey` and `url`) or a log witnessed only (neither).
    public func add(name: String, logKey: String, witnessKey: String?, url: String?) async throws -> AdminAPI.PeerChangeResult {
        try await send(.add, name: name, logKey: logKey, witnessKey: witnessKey, url: url)
    }

    public func remove(name: String) async throws -> AdminAPI.PeerChangeResult {
        try await send(.remove, name: name, logKey: nil, witnessKey: nil, url: nil)
    }

    func send(_ action: PeerChange.Action, name: String, logKey: String?, witnessKey: String?, url: String?) async throws -> AdminAPI.PeerChangeResult {
        let jws = PeerChange.make(vault: vault.origin, action: action, name: name, logKey: logKey, witnessKey: witnessKey, url: url,
                                  at: Timestamp.now(), keys: keys)
        return try await client.changePeers(.init(change: String(decoding: jws.serialized(), as: UTF8.self)))
    }
}

extension AdminClient {
    public func peers() async throws -> AdminAPI.Peers {
        try await get("/v1/peers", as: AdminAPI.Peers.self)
    }

    public func changePeers(_ input: AdminAPI.PeerChangeInput) async throws -> AdminAPI.PeerChangeResult {
        try await post("/v1/peers", body: Array(try JSONEncoder().encode(input)), contentType: "application/json", as: AdminAPI.PeerChangeResult.self)
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
