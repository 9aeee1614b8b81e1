import EdgeVaultCore
import EdgeVaultStore
import Foundation
import Hummingbird
import NIOCore

/// The person's range deletions on the admin socket (docs/PROTOCOL.md §"Deleting a range"):
/// `POST /v1/segments/close` closes the open segments a deletion will touch, `POST /v1/deletions`
/// applies the person's signed deletion with its `data.deleted` leaf.
struct AdminDeletionsController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService
    let manager: SegmentManager

    /// A deletion body: the signed document and the re-encrypted readings of the range's two edge
    /// buckets (a day of 1 Hz readings in a day-long bucket is about 5 MiB of base64).
    static var maxBodyBytes: Int { 8 * 1024 * 1024 }

    func addRoutes(to router: Router<Context>) {
        router.post("/v1/segments/close", use: close)
        router.post("/v1/deletions", use: delete)
    }

    @Sendable func close(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.CloseSegmentsResult> {
        let body = try await request.body.collect(upTo: 4096)
        guard let input = try? JSONDecoder().decode(AdminAPI.CloseSegments.self, from: Data(buffer: body)), input.from < input.to else {
            throw Problem(code: .badRequest, detail: "the body is {\"stream\",\"from\",\"to\"} with from < to (milliseconds)")
        }
        return JSONBody(AdminAPI.CloseSegmentsResult(closed: try await manager.closeSegments(stream: input.stream, from: input.from, to: input.to)))
    }

    @Sendable func delete(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.DeletionResult> {
        let body = try await request.body.collect(upTo: Self.maxBodyBytes)
        guard let input = try? JSONDecoder().decode(AdminAPI.DeletionInput.self, from: Data(buffer: body)) else {
            throw Problem(code: .deletionInvalid, detail: "a deletion is {\"deletion\":<the person's JWS>,\"replacements\":[…]} (vault-cli delete)")
        }
        let vault = ledger.vault
        let jwsBytes = Array(input.deletion.utf8)
        let checked: RangeDeletion.Checked
        do {
            checked = try RangeDeletion.check(try JWS(json: jwsBytes), userKeyId: vault.userKeyId,
                                              userKey: try SigningPublicKey(bytes: [UInt8](vault.userSigningKey)))
        } catch let e as JWS.Failure {
            throw Problem(code: .deletionInvalid, detail: e.detail)
        }
        let replacements = try input.replacements.map { r in
            guard let key = Encoding.fromBase64(r.sealedKey) else { throw Problem(code: .deletionInvalid, detail: "replacement \(r.id): sealedKey is not base64") }
            return VaultStore.ReplacementSegment(
                ordinal: 0, id: r.id, replaces: r.replaces, sealedKey: key, minTime: r.minTime, maxTime: r.maxTime,
                chunks: try r.chunks.map { c in
                    guard let bytes = Encoding.fromBase64(c.ciphertext) else { throw Problem(code: .deletionInvalid, detail: "replacement \(r.id): a chunk is not base64") }
                    return RangeDeletion.Chunk(seq: c.seq, readings: c.readings, ciphertext: bytes)
                },
                grantKeys: try r.grantKeys.map { k in
                    guard let bytes = Encoding.fromBase64(k.sealedKey) else { throw Problem(code: .deletionInvalid, detail: "replacement \(r.id): a grant key is not base64") }
                    return .init(org: k.org, grant: k.grant, sealedKey: bytes)
                })
        }
        guard replacements.count <= checked.segments.count else {
            throw Problem(code: .deletionInvalid, detail: "at most \(RangeDeletion.maxSegments) replacements")
        }
        let result = try await manager.applyRangeDeletion(checked, jws: jwsBytes, replacements: replacements, now: Timestamp.now())
        let checkpoint = try await ledger.anchorForAnswer(index: result.leafIndex, detail: "the deletion is done and recorded but its checkpoint could not be signed yet")
        return JSONBody(AdminAPI.DeletionResult(stream: checked.stream, readings: result.readings, deletedSegments: result.deletedSegments,
                                                replacedSegments: result.replacedSegments, leafIndex: result.leafIndex, checkpointSize: checkpoint.size))
    }
}
