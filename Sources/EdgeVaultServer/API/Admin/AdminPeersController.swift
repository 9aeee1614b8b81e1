import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore

/// The person's peers, on the admin socket (docs/PROTOCOL.md §"Peers"). Adding or removing one
/// takes the person's signed `edgevault.peer/v1` change: a process that only reaches the socket
/// can read the list, never add a witness that would vouch for a forked log nor drop one.
struct AdminPeersController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService
    let witnessing: Witnessing
    /// Where the shares held for peers are (removed with the peer).
    let dataDir: String

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/peers", use: list)
        router.post("/v1/peers", use: change)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Peers> {
        let witnessed = Dictionary(try await store.witnessedLogs().map { ($0.origin, $0) }, uniquingKeysWith: { a, _ in a })
        let peers = try await store.peers().map { p in
            AdminAPI.PeerInfo(name: p.name, origin: p.origin, logKey: p.logKey, witnessKey: p.witnessKey, url: p.url,
                              addedAt: Timestamp.rfc3339(milliseconds: p.signedAt), witnessedSize: witnessed[p.origin]?.size,
                              witnessedAt: witnessed[p.origin]?.updatedAt.map { Timestamp.rfc3339(milliseconds: $0) })
        }
        let progress = Dictionary(try await store.witnessProgress().map { ($0.key, $0) }, uniquingKeysWith: { a, _ in a })
        let verified = try await store.cosignedSizes()
        let targets = await witnessing.collector.currentTargets().map { t in
            let p = progress[t.key.text]
            return AdminAPI.WitnessTargetInfo(name: t.name, key: t.key.text, url: t.url, cosignedSize: verified[t.key.text] ?? 0,
                                              claimedSize: p?.cosignedSize ?? 0,
                                              lastSuccess: p?.lastSuccess.map { Timestamp.rfc3339(milliseconds: $0) },
                                              lastError: p?.lastError, failures: p?.failures ?? 0)
        }
        return JSONBody(AdminAPI.Peers(witnessKey: witnessing.witness.cosigner.verifier.text, logKey: ledger.verifier.text,
                                       peers: peers, witnesses: targets, alarms: try await alarms()))
    }

    func alarms() async throws -> [AdminAPI.WitnessAlarmInfo] {
        try await store.witnessAlarms().map {
            AdminAPI.WitnessAlarmInfo(witness: $0.key, at: Timestamp.rfc3339(milliseconds: $0.at), status: $0.status, detail: $0.detail)
        }
    }

    @Sendable func change(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.PeerChangeResult> {
        let input = try await AdminOrgsController<Context>.body(AdminAPI.PeerChangeInput.self, request, what: "a peer change", invalid: Problem(
            code: .peerChangeInvalid,
            detail: "a peer change must be signed by the person: send {\"change\":<signed edgevault.peer/v1 JWS>} (vault-cli peer add/remove, vault-cli witness add-log)"))
        let jwsBytes = Array(input.change.utf8)
        let checked = try ledger.checkPersonSigned(jwsBytes, code: .peerChangeInvalid, PeerChange.check(_:userKeyId:userKey:))
        if let key = checked.witnessKey, (try? CosignatureVerifier(key))?.publicKey == witnessing.witness.cosigner.keyPair.publicKey {
            throw Problem(code: .peerConflict, detail: "that is this vault's own witness key: a peer's comes from its own `vault-cli peer key`")
        }
        let outcome = try await store.applyPeerChange(checked, jws: jwsBytes, now: Timestamp.now())
        let shares = ShareFiles(dataDir: dataDir)
        for held in outcome.forgotten { shares.remove(storageIndex: held.storageIndex, n: held.n) }
        try await witnessing.collector.reloadTargets()
        let checkpoint = try await ledger.anchorForAnswer(index: outcome.leafIndex,
                                                          detail: "the peer change is recorded but its checkpoint could not be signed yet")
        return JSONBody(AdminAPI.PeerChangeResult(change: outcome.kind.rawValue, name: checked.name, leafIndex: outcome.leafIndex,
                                                  checkpointSize: checkpoint.size))
    }
}
