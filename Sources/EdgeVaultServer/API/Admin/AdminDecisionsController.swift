import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore

/// `POST /v1/decisions` (admin socket): the person's co-signed grant or denial.
///
/// The daemon checks that the payload is byte-identical to the pending request, that the
/// organization's signature is the stored one, that the person's signature verifies with the
/// key fixed at init, and for a grant that the sealed keys cover exactly the segments in scope
/// (open ones it may seal itself). It writes everything with the ledger leaf in one
/// transaction and answers only once the leaf is in a signed checkpoint: if the ledger cannot
/// be written the decision is refused (fail closed).
struct AdminDecisionsController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService
    let manager: SegmentManager

    func addRoutes(to router: Router<Context>) {
        router.post("/v1/decisions", use: decide)
    }

    @Sendable func decide(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.DecisionResult> {
        let body = try await request.body.collect(upTo: 4 * 1024 * 1024)
        let input = try JSONDecoder().decode(AdminAPI.DecisionInput.self, from: Data(buffer: body))
        let now = Timestamp.now()
        guard let stored = try await store.request(org: input.org, id: input.id, now: now) else {
            throw Problem(code: .notFound, detail: "no request \(input.id) from \(input.org)")
        }
        guard stored.status == .pending else { throw Problem(code: .notPending, detail: "request \(input.id) is \(stored.status)") }
        let vault = ledger.vault
        let checked: Decision.Checked
        let decided: JWS
        do {
            decided = try JWS(json: Array(input.jws.utf8))
            let original = try JWS(json: [UInt8](stored.jws))
            checked = try Decision.check(decided, stored: original, userKeyId: vault.userKeyId,
                                         userKey: try SigningPublicKey(bytes: [UInt8](vault.userSigningKey)))
        } catch let e as JWS.Failure {
            throw Problem(code: .decisionInvalid, detail: e.detail)
        }
        var sealed: [Int64: [UInt8]] = [:]
        if checked.kind == .grant, let signed = checked.segments, signed != input.sealedKeys.count {
            throw Problem(code: .decisionInvalid,
                          detail: "the person signed for \(signed) segment key(s) but \(input.sealedKeys.count) came with the grant")
        }
        if checked.kind == .grant {
            let access: AccessRequest
            do {
                access = try AccessRequest(payload: decided.payload, origin: vault.origin, now: nil)
            } catch {
                // Stored as valid on arrival; a request that no longer reads as one (for this
                // vault) cannot be granted.
                throw Problem(code: .decisionInvalid, detail: "request \(input.id) cannot be granted: \(error.detail)")
            }
            if access.isCompute {
                // Only the job's output ever leaves under a compute grant: no segment key,
                // neither re-sealed by the person nor sealed here (docs/PROTOCOL.md §"Compute jobs").
                guard input.sealedKeys.isEmpty else {
                    throw Problem(code: .decisionInvalid, detail: "a compute grant never carries a segment key; \(input.sealedKeys.count) came with it")
                }
            }
            let scope = access.isCompute ? [] : try await store.segmentsInScope(access.scope)
            let byId = Dictionary(uniqueKeysWithValues: scope.map { ($0.id, $0) })
            for key in input.sealedKeys {
                guard let seg = byId[key.segment] else {
                    throw Problem(code: .decisionInvalid, detail: "segment \(key.segment) is not in the request's scope")
                }
                guard let bytes = Encoding.fromBase64(key.sealedKey), bytes.count == 32 + SealedBox.overhead else {
                    throw Problem(code: .decisionInvalid, detail: "the sealed key of segment \(key.segment) is malformed")
                }
                sealed[seg.ordinal!] = bytes
            }
            for seg in scope where sealed[seg.ordinal!] == nil {
                // A closed segment whose key is still unbound is never granted (docs/PROTOCOL.md
                // §"Segment keys sealed to the person"): the person's CLI leaves it out.
                if seg.closedAt != nil, seg.sealedKey.count == SegmentKeySeal.unboundSealedLength { continue }
                guard let own = try await manager.sealOpenSegment(id: seg.id, to: access.deliveryKey) else {
                    throw Problem(code: .decisionInvalid, detail: "the grant must carry the key of segment \(seg.id): it is closed, only your key opens it")
                }
                sealed[seg.ordinal!] = own
            }
        }
        let index = try await store.recordDecision(org: input.org, id: input.id, decided: Array(input.jws.utf8), decision: checked,
                                             sealedKeys: sealed, now: now)
        if checked.kind == .grant { await manager.reloadGrants() }
        let checkpoint: VaultStore.StoredCheckpoint
        do {
            checkpoint = try await ledger.anchorWitnessed(index: index)
        } catch let e as VaultError where e.code == .witnessQuorum {
            throw Problem(code: .witnessQuorum, detail: "the decision is recorded, but \(e.message); "
                + "the organization gets nothing until they do (vault-cli peer list shows them)")
        } catch {
            throw Problem(code: .storageUnavailable,
                          detail: "the decision is recorded but its checkpoint could not be signed; it takes effect once one is (\(error))")
        }
        return JSONBody(AdminAPI.DecisionResult(
            id: input.id, status: checked.kind == .grant ? "granted" : "denied", leafIndex: index, checkpointSize: checkpoint.size,
            segments: sealed.count))
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
