import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The organization's fetch endpoints (docs/PROTOCOL.md §"Fetch"): the co-signed grant with its receipt, the
/// segments it covers with their keys sealed to the delivery key, and paged chunks. Every page
/// served is a `data.released` leaf, anchored in a checkpoint before the page leaves.
struct GrantsController: Sendable {
    let store: VaultStore
    let ledger: LedgerService
    let violations: ViolationRecorder

    func addRoutes(to group: RouterGroup<OrgRequestContext>) {
        group.get("{id}", use: grant)
        group.get("{id}/segments", use: segments)
        group.get("{id}/segments/{segment}/chunks", use: chunks)
        group.get("{id}/results", use: results)
    }

    /// A raw grant, for the segment and chunk endpoints: under a compute grant only results
    /// leave (docs/PROTOCOL.md §"Compute jobs").
    func liveRawGrant(_ context: OrgRequestContext) async throws -> GrantRecord {
        let grant = try await liveGrant(context)
        guard grant.job == nil else {
            throw Problem(code: .computeOnly, detail: "grant \(grant.id) is a compute grant: your program runs on the vault and only its results leave (GET /v1/grants/\(grant.id)/results)")
        }
        // With quorum.required, a grant's segment keys leave only once its witnesses cosigned it.
        _ = try await ledger.anchorWitnessed(index: grant.leafIndex)
        return grant
    }

    /// `GET /v1/grants/{id}/results?after=N` (docs/PROTOCOL.md §"Compute results", a MUST): the
    /// runs with `seq > N` the organization may see (released ones; failed ones too under
    /// `auto` release), each with its leaf, its receipt and (released runs) the output sealed
    /// to the delivery key. Results stay listed after revocation or expiry (they
    /// were released while the grant was live); a run whose leaf is not yet in a checkpoint is
    /// not listed yet.
    @Sendable func results(_ request: Request, context: OrgRequestContext) async throws -> JSONBody<OrgAPI.ComputeResults> {
        let grant = try await liveGrant(context, allowDead: true)
        guard grant.job != nil else { throw Problem(code: .notFound, detail: "grant \(grant.id) is a raw grant; it has no results") }
        var after: Int64 = -1
        if let text = request.uri.queryParameters.get("after") {
            guard let n = Int64(text), n >= 0 else { throw Problem(code: .badRequest, detail: "after must be a non-negative integer") }
            after = n
        }
        let anchored = await ledger.latestCheckpoint()?.size ?? 0
        var out: [OrgAPI.ComputeResult] = []
        let failedToo = grant.computeJob?.release == .auto
        for run in try await store.visibleRuns(org: grant.org, grant: grant.id, after: after, limit: 64, failed: failedToo)
        where run.leafIndex < anchored {
            // With quorum.required, a result leaves only on a witnessed checkpoint.
            do { _ = try await ledger.anchorWitnessed(index: run.leafIndex) } catch let e as VaultError where e.code == .witnessQuorum { break }
            let receipt = try await ledger.receipt(index: run.leafIndex)
            out.append(OrgAPI.ComputeResult(seq: run.seq, leaf: receipt.leaf, sealedOutput: run.sealedOutput.map(Encoding.base64), receipt: receipt))
        }
        return JSONBody(OrgAPI.ComputeResults(results: out))
    }

    /// The caller's grant, refusing one that is not yet anchored, revoked or expired.
    func liveGrant(_ context: OrgRequestContext, allowDead: Bool = false) async throws -> GrantRecord {
        let id = try context.parameters.require("id")
        guard let grant = try await store.grant(org: context.org.keyId, id: id) else {
            // Not even a request of theirs: a violation, whether or not another organization
            // holds the id (the log's growth must not tell which ids exist).
            if try await store.request(org: context.org.keyId, id: id, now: Timestamp.now()) == nil {
                await violations.record(org: context.org.keyId, kind: "other-org-grant", detail: "asked for grant \(id), which is not theirs")
            }
            throw Problem(code: .notFound, detail: "no grant \(id) of yours")
        }
        guard let cp = await ledger.latestCheckpoint(), cp.size > grant.leafIndex else {
            throw Problem(code: .storageUnavailable, detail: "grant \(id) is not anchored in a checkpoint yet; retry shortly")
        }
        if !allowDead {
            if grant.status == .revoked {
                await violations.record(org: grant.org, kind: "fetch-after-revocation", detail: "fetch under revoked grant \(id)")
                throw Problem(code: .grantRevoked, detail: "grant \(id) was revoked by the person")
            }
            if grant.expires <= Timestamp.now() {
                await violations.record(org: grant.org, kind: "fetch-after-expiry", detail: "fetch under expired grant \(id)")
                throw Problem(code: .grantExpired, detail: "grant \(id) expired at \(Timestamp.rfc3339(milliseconds: grant.expires))")
            }
        }
        return grant
    }

    @Sendable func grant(_ request: Request, context: OrgRequestContext) async throws -> Response {
        let grant = try await liveGrant(context, allowDead: true)
        // With quorum.required, a grant is served only on a checkpoint its witnesses cosigned.
        _ = try await ledger.anchorWitnessed(index: grant.leafIndex)
        let receipt = try await ledger.receipt(index: grant.leafIndex)
        var body = Array("{\"grant\":".utf8) + [UInt8](grant.jws) + Array(",\"receipt\":".utf8)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        body += Array(try encoder.encode(receipt)) + [0x7D]
        return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }

    @Sendable func segments(_ request: Request, context: OrgRequestContext) async throws -> JSONBody<OrgAPI.Segments> {
        let grant = try await liveRawGrant(context)
        let rows = try await store.grantSegments(org: grant.org, id: grant.id)
        return JSONBody(OrgAPI.Segments(segments: rows.map { r in
            OrgAPI.Segment(id: r.segment.id, stream: r.stream, start: Timestamp.rfc3339(milliseconds: r.segment.bucketStart),
                           end: Timestamp.rfc3339(milliseconds: r.segment.bucketEnd), chunks: r.segment.chunkCount,
                           sealedKey: Encoding.base64(r.sealedKey))
        }))
    }

    @Sendable func chunks(_ request: Request, context: OrgRequestContext) async throws -> JSONBody<OrgAPI.Chunks> {
        let grant = try await liveRawGrant(context)
        let segmentId = try context.parameters.require("segment")
        let rows = try await store.grantSegments(org: grant.org, id: grant.id)
        guard let segment = rows.first(where: { $0.segment.id == segmentId })?.segment else {
            await violations.record(org: grant.org, kind: "segment-out-of-scope", detail: "asked for segment \(segmentId) under grant \(grant.id)")
            throw Problem(code: .notFound, detail: "segment \(segmentId) is not covered by grant \(grant.id)")
        }
        let (after, limit) = try ChunkPage.parameters(request)
        let (page, next) = try await ChunkPage.read(store, segment: segment.ordinal!, after: after, limit: limit)
        if !page.isEmpty {
            // The release is on the record, in a signed checkpoint, before the data leaves (fail closed).
            do {
                // With quorum.required, not while the witnesses are away: no release entry is
                // written that nothing could follow.
                try await ledger.requireWitnessedHead()
                let cp = try await ledger.appendAnchored(VaultStore.releaseLeaf(org: grant.org, grant: grant.id, segment: segmentId, chunks: page, now: Timestamp.now()))
                // With quorum.required, only once the witnesses cosigned the release.
                _ = try await ledger.anchorWitnessed(index: cp.size - 1)
            } catch let e as VaultError where e.code == .witnessQuorum {
                throw Problem(code: .witnessQuorum, detail: "the release is recorded, but \(e.message); retry later")
            } catch {
                throw Problem(code: .storageUnavailable, detail: "the release could not be anchored in the log; retry later")
            }
        }
        return JSONBody(ChunkPage.body(page, next: next))
    }
}

