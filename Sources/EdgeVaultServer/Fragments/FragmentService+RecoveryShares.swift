import EdgeVaultCore
import EdgeVaultStore

/// Recovery shares sealed to peers (docs/PROTOCOL.md §"Key recovery", "Shares sealed to
/// peers"): vaultd holds the witness key the peers know, so it delivers the person's sealed
/// shares to them, and opens, for its own person, the shares peers left here.
extension FragmentService {
    /// Leaves each sealed share with the peer it names; fails (naming the peer and its answer)
    /// at the first that does not take it.
    public func deliverRecoveryShares(_ input: AdminAPI.RecoverySharesInput) async throws -> AdminAPI.RecoverySharesResult {
        guard !input.shares.isEmpty, input.shares.count <= 16 else { throw VaultError(.badRequest, "send 1…16 sealed shares") }
        let peers = try await store.peers()
        var delivered: [String] = []
        for item in input.shares {
            guard let peer = peers.first(where: { $0.name == item.peer }), let url = peer.url, peer.witnessKey != nil else {
                throw VaultError(.badRequest, "no peer named \"\(item.peer)\" with a URL and a witness key")
            }
            let share = try SealedRecoveryShare(bytes: Array(item.share.utf8))
            guard share.holder == peer.origin, share.vault == ledger.origin else {
                throw VaultError(.badRequest, "the share for \"\(item.peer)\" is not sealed for it by this vault")
            }
            do {
                try await PeerShareClient(url: url, holder: peer.origin, origin: ledger.origin, keyPair: keyPair).putRecoveryShare(share)
            } catch {
                throw VaultError(.tooFewPeers, "\"\(item.peer)\" did not take its recovery share (\(error)); delivered so far: \(delivered.isEmpty ? "none" : delivered.joined(separator: ", "))")
            }
            delivered.append(item.peer)
        }
        logger.notice("recovery shares left with peers", metadata: ["peers": "\(delivered.joined(separator: ","))"])
        return AdminAPI.RecoverySharesResult(delivered: delivered)
    }

    /// Opens the share the peer named `name` left here, and records that in the ledger.
    public func openRecoveryShare(peer name: String) async throws -> AdminAPI.OpenShareResult {
        guard let peer = try await store.peers().first(where: { $0.name == name }) else {
            throw VaultError(.notFound, "no peer named \"\(name)\"")
        }
        guard let held = try await store.heldRecoveryShare(sender: peer.origin) else {
            throw VaultError(.notFound, "\"\(name)\" left no recovery share with this vault")
        }
        let share = try SealedRecoveryShare(bytes: held.share)
        let words = try share.open(with: keyPair)
        let mnemonic = words.withUnsafeBytes { String(decoding: $0, as: UTF8.self) }
        let now = Timestamp.now()
        let index = try await store.recordRecoveryShareOpened(sender: peer.origin, name: name, now: now)
        _ = try? await ledger.anchor(index: index)
        logger.notice("a peer's recovery share was opened by this vault's person", metadata: ["peer": "\(name)"])
        return AdminAPI.OpenShareResult(mnemonic: mnemonic, vault: share.vault, group: share.group, member: share.member,
                                        storedAt: Timestamp.rfc3339(milliseconds: held.storedAt), leafIndex: index)
    }
}
