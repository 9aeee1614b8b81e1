import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore

/// `POST /v1/segments/keys` (admin socket): the person's signed upgrade of unbound sealed keys
/// to the bound format (docs/PROTOCOL.md §"Segment keys sealed to the person"), anchored as a
/// `keys.upgraded` leaf.
struct AdminKeysController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService

    func addRoutes(to router: Router<Context>) {
        router.post("/v1/segments/keys", use: upgrade)
    }

    @Sendable func upgrade(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.KeyUpgradeResult> {
        let body = try await request.body.collect(upTo: 1024 * 1024)
        let bytes = Array(body.readableBytesView)
        let vault = ledger.vault
        let keys: [(segment: String, sealedKey: [UInt8])]
        do {
            keys = try KeyUpgrade.check(try JWS(json: bytes), userKeyId: vault.userKeyId,
                                        userKey: try SigningPublicKey(bytes: [UInt8](vault.userSigningKey)), now: Timestamp.now())
        } catch let e as JWS.Failure {
            throw Problem(code: .decisionInvalid, detail: e.detail)
        }
        let (count, index) = try await store.upgradeSealedKeys(keys, document: bytes, now: Timestamp.now())
        // Nothing replaced (a replayed or already applied document): no leaf, nothing to anchor.
        guard let index else { return JSONBody(AdminAPI.KeyUpgradeResult(upgraded: 0, leafIndex: nil, checkpointSize: nil)) }
        let cp = try await ledger.anchorForAnswer(index: index, detail: "the upgrade is recorded but its checkpoint could not be signed yet")
        return JSONBody(AdminAPI.KeyUpgradeResult(upgraded: count, leafIndex: index, checkpointSize: cp.size))
    }
}
