import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The person's grants on the admin socket: `GET /v1/grants` lists them with what each released;
/// `POST /v1/revocations` takes the person's signed revocation. From the moment it
/// is recorded, fetches answer `grant_revoked` and no new segment is sealed to the grant.
struct AdminGrantsController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService
    let manager: SegmentManager

    func addRoutes(to router: Router<Context>) {
        router.post("/v1/revocations", use: revoke)
        router.get("/v1/grants", use: list)
    }

    @Sendable func revoke(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.RevocationResult> {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let vault = ledger.vault
        let checked: Revocation.Checked
        let bytes = Array(body.readableBytesView)
        do {
            checked = try Revocation.check(try JWS(json: bytes), userKeyId: vault.userKeyId, userKey: try SigningPublicKey(bytes: [UInt8](vault.userSigningKey)))
        } catch let e as JWS.Failure {
            throw Problem(code: .decisionInvalid, detail: e.detail)
        }
        let index = try await store.revokeGrant(org: checked.org, id: checked.grant, revocation: bytes, reason: checked.reason, now: Timestamp.now())
        await manager.reloadGrants()
        let cp = try await ledger.anchorForAnswer(index: index, detail: "the revocation is recorded but its checkpoint could not be signed yet")
        return JSONBody(AdminAPI.RevocationResult(grant: checked.grant, org: checked.org, leafIndex: index, checkpointSize: cp.size))
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Grants> {
        let rows = try await store.grants()
        var releases: [(pages: Int, readings: Int64)] = []
        for g in rows { releases.append(try await store.releases(org: g.org, grant: g.id)) }
        return JSONBody(AdminAPI.Grants(grants: zip(rows, releases).map { g, released in
            let signedName = (try? JWS(json: [UInt8](g.jws))).flatMap { try? JSONValue.parse($0.payload) }?["org"]?["name"]?.stringValue
            return AdminAPI.GrantSummary(
                org: g.org, name: signedName, id: g.id, status: g.status.effective(expires: g.expires, now: Timestamp.now()),
                streams: g.streamList,
                from: Timestamp.rfc3339(milliseconds: g.fromTime), to: Timestamp.rfc3339(milliseconds: g.toTime),
                expires: Timestamp.rfc3339(milliseconds: g.expires), issued: Timestamp.rfc3339(milliseconds: g.issuedAt),
                revoked: g.revokedAt.map { Timestamp.rfc3339(milliseconds: $0) }, releases: released.pages, readingsReleased: released.readings,
                jws: String(decoding: g.jws, as: UTF8.self))
        }))
    }
}
