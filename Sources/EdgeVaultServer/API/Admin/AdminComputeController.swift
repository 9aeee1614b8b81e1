import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The person's side of compute grants (admin socket; docs/PROTOCOL.md §"Compute results"):
/// `GET /v1/modules` (what organizations brought), `GET /v1/modules/{name}` (the bytes, which
/// the CLI checks against the name before running or showing them), `GET /v1/compute/pending`
/// (`review` runs waiting) and `POST /v1/compute/decisions` (the person's signed release,
/// withholding or failed `once` run). A decision is answered once its leaf is in a signed
/// checkpoint; only then does a released output leave.
struct AdminComputeController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService

    /// A sealed output: the largest output a job may write, sealed and base64-encoded, with room.
    static var maxDecisionBody: Int { 8 * 1024 * 1024 }

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/modules") { _, _ in JSONBody(AdminAPI.Modules(modules: try await store.modules())) }
        router.get("/v1/modules/{name}", use: module)
        router.delete("/v1/modules/{name}") { _, context -> JSONBody<OrgAPI.ModuleStored> in
            let name = try context.parameters.require("name")
            guard ComputeJob.digest(of: name) != nil, let bytes = try await store.module(name: name) else {
                throw Problem(code: .notFound, detail: "no module \(name.prefix(80)) here")
            }
            guard try await store.removeModule(name: name, now: Timestamp.now()) else { throw Problem(code: .notFound, detail: "no module \(name) here") }
            return JSONBody(OrgAPI.ModuleStored(module: name, size: bytes.count))
        }
        router.get("/v1/compute/pending") { _, _ in JSONBody(AdminAPI.PendingRuns(runs: try await store.pendingRuns())) }
        router.get("/v1/compute/pending/{org}/{grant}/{seq}") { _, context -> JSONBody<AdminAPI.PendingRun> in
            let (org, grant, seqText) = (try context.parameters.require("org"), try context.parameters.require("grant"), try context.parameters.require("seq"))
            guard let seq = Int64(seqText), let run = try await store.pendingRun(org: org, grant: grant, seq: seq) else {
                throw Problem(code: .notFound, detail: "no run \(seqText.prefix(20)) of grant \(grant.prefix(64)) waits for your decision")
            }
            return JSONBody(run)
        }
        router.post("/v1/compute/decisions", use: decide)
    }

    @Sendable func module(_ request: Request, context: Context) async throws -> Response {
        let name = try context.parameters.require("name")
        guard ComputeJob.digest(of: name) != nil, let bytes = try await store.module(name: name) else {
            throw Problem(code: .notFound, detail: "no module \(name.prefix(80)) here")
        }
        return Response(status: .ok, headers: [.contentType: "application/wasm"], body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    @Sendable func decide(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.ComputeDecisionResult> {
        let body = try await request.body.collect(upTo: Self.maxDecisionBody)
        let input: AdminAPI.ComputeDecisionInput
        do {
            input = try JSONDecoder().decode(AdminAPI.ComputeDecisionInput.self, from: Data(buffer: body))
        } catch {
            throw Problem(code: .badRequest, detail: "the body must be {org, grant, jws, sealedOutput}")
        }
        let vault = ledger.vault
        let checked: ComputeDecision.Checked
        let jws: JWS
        do {
            jws = try JWS(json: Array(input.jws.utf8))
            checked = try ComputeDecision.check(jws, userKeyId: vault.userKeyId, userKey: try SigningPublicKey(bytes: [UInt8](vault.userSigningKey)))
        } catch let e as JWS.Failure {
            throw Problem(code: .resultInvalid, detail: e.detail)
        }
        guard checked.org == input.org, checked.run.grant == input.grant else {
            throw Problem(code: .resultInvalid, detail: "the signed decision is about another grant")
        }
        guard let grant = try await store.grant(org: input.org, id: input.grant), let job = grant.computeJob else {
            throw Problem(code: .notFound, detail: "no compute grant \(input.grant) of \(input.org)")
        }
        var sealed: [UInt8]?
        if checked.outcome == .released {
            guard let text = input.sealedOutput, let bytes = Encoding.fromBase64(text), bytes.count >= SealedBox.overhead,
                  bytes.count <= job.limits.outputBytes + SealedBox.overhead else {
                throw Problem(code: .resultInvalid, detail: "a release carries the output sealed to the grant's delivery key (at most \(job.limits.outputBytes) bytes of output)")
            }
            sealed = bytes
        } else if input.sealedOutput != nil {
            throw Problem(code: .resultInvalid, detail: "only a released output is sent")
        }
        let digest = Hash.sha256(jws.serialized())
        let now = Timestamp.now()
        // A VaultError from the store keeps its code (ProblemMiddleware).
        let index = job.schedule == .once
            ? try await store.recordRun(org: input.org, run: checked.run, outcome: checked.outcome, sealedOutput: sealed,
                                        decisionSha256: digest, now: now)
            : try await store.decideHeldRun(org: input.org, run: checked.run, outcome: checked.outcome, sealedOutput: sealed,
                                            decisionSha256: digest, now: now)
        let checkpoint: VaultStore.StoredCheckpoint
        do {
            checkpoint = try await ledger.anchorWitnessed(index: index)
        } catch let e as VaultError where e.code == .witnessQuorum {
            throw Problem(code: .witnessQuorum, detail: "the decision is recorded, but \(e.message); "
                + "the output leaves only once they do (vault-cli peer list shows them)")
        } catch {
            throw Problem(code: .storageUnavailable,
                          detail: "the decision is recorded but its checkpoint could not be signed; the output leaves once one is")
        }
        return JSONBody(AdminAPI.ComputeDecisionResult(seq: checked.run.seq, status: checked.outcome.rawValue, leafIndex: index,
                                                       checkpointSize: checkpoint.size))
    }
}
