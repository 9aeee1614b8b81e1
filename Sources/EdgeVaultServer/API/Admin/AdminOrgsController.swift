import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The person's list of organizations, on the admin socket. Pinning, renaming, blocking and
/// unblocking take the person's signed trust change (docs/PROTOCOL.md §"Trust changes"): a
/// process that only reaches the socket can read the list but change nothing in it. A block
/// carries the person's denial of each of the organization's pending requests; `denials`
/// denies several pending requests of one organization at once.
struct AdminOrgsController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService
    /// Room for a denial (about 1 KiB at most) of each of up to 10,000 pending requests (the
    /// highest `requests.max_pending_per_org`).
    static var maxBody: Int { 16 * 1024 * 1024 }

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/orgs", use: list)
        router.post("/v1/orgs/{keyId}/pin") { try await change($0, $1, .pin) }
        router.post("/v1/orgs/{keyId}/block") { try await change($0, $1, .block) }
        router.post("/v1/orgs/{keyId}/unblock") { try await change($0, $1, .unblock) }
        router.post("/v1/orgs/{keyId}/denials", use: deny)
    }

    static func info(_ o: OrgRecord, signedPins: Set<String>) -> AdminAPI.Org {
        AdminAPI.Org(keyId: o.keyId, fingerprint: Fingerprint.of(thumbprint: o.keyId) ?? "?", name: o.name, pinnedName: o.pinnedName,
                     contact: o.contact, trust: o.trust, firstSeen: o.firstSeen.map { Timestamp.rfc3339(milliseconds: $0) },
                     pinSigned: o.trust == .pinned ? signedPins.contains(o.keyId) : nil)
    }

    @Sendable func list(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.Orgs> {
        let signed = try await store.signedPins()
        return JSONBody(AdminAPI.Orgs(orgs: try await store.orgs().map { Self.info($0, signedPins: signed) }))
    }

    static func keyId(_ context: Context) throws -> String {
        let keyId = try context.parameters.require("keyId")
        guard keyId.count == 43, let raw = Encoding.fromBase64url(keyId), raw.count == 32 else {
            throw Problem(code: .badRequest, detail: "an organization key id is a 43-character RFC 7638 thumbprint")
        }
        return keyId
    }

    static func body<T: Decodable>(_ type: T.Type, _ request: Request, what: String, invalid: Problem) async throws -> T {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: maxBody)
        } catch {
            throw Problem(code: .tooLarge, detail: "\(what) is larger than \(maxBody / 1024 / 1024) MiB")
        }
        do {
            return try JSONDecoder().decode(T.self, from: Data(buffer: body))
        } catch {
            throw invalid
        }
    }

    /// The person's key as the vault recorded it at init.
    func userKey() throws -> (id: String, key: SigningPublicKey, origin: String) {
        let vault = ledger.vault
        return (vault.userKeyId, try SigningPublicKey(bytes: [UInt8](vault.userSigningKey)), vault.origin)
    }

    /// Checks each co-signature against the stored request: the stored JWS with the person's
    /// signature appended must pass `Decision.check` as a denial.
    func verified(_ denials: [AdminAPI.Denial], org: String, user: (id: String, key: SigningPublicKey, origin: String)) async throws -> [VaultStore.PendingDenial] {
        var out: [VaultStore.PendingDenial] = []
        for d in denials {
            guard let stored = try await store.request(org: org, id: d.id, now: Timestamp.now()) else {
                throw Problem(code: .notFound, detail: "no request \(d.id) from \(org); nothing was changed")
            }
            do {
                let original = try JWS(json: [UInt8](stored.jws))
                guard let protBytes = Encoding.fromBase64url(d.protected), let header = try? JSONValue.parse(protBytes),
                      case .object = header, let sig = Encoding.fromBase64url(d.signature)
                else { throw JWS.Failure("the denial of \(d.id) needs base64url protected (a JSON object) and signature") }
                var decided = original
                decided.signatures.append(JWS.Signature(protected: d.protected, signature: sig, header: header))
                let checked = try Decision.check(decided, stored: original, userKeyId: user.id, userKey: user.key)
                guard checked.kind == .deny else { throw JWS.Failure("the signature for \(d.id) is not a denial") }
                out.append(.init(id: d.id, reason: checked.reason))
            } catch let e as JWS.Failure {
                throw Problem(code: .decisionInvalid, detail: "request \(d.id): \(e.detail); nothing was changed")
            }
        }
        return out
    }

    static func check(_ bytes: [UInt8], user: (id: String, key: SigningPublicKey, origin: String)) throws -> TrustChange.Checked {
        do {
            return try TrustChange.check(try JWS(json: bytes), userKeyId: user.id, userKey: user.key)
        } catch {
            throw Problem(code: .trustChangeInvalid, detail: error.detail)
        }
    }

    func change(_ request: Request, _ context: Context, _ action: TrustChange.Action) async throws -> JSONBody<AdminAPI.TrustChangeResult> {
        let keyId = try Self.keyId(context)
        let input = try await Self.body(AdminAPI.TrustChangeInput.self, request, what: "a trust change", invalid: Problem(
            code: .trustChangeInvalid,
            detail: "a trust change must be signed by the person: send {\"change\":<signed edgevault.trust/v1 JWS>,\"denials\":[…]} (vault-cli trust add/block/unblock)"))
        let user = try userKey()
        let jwsBytes = Array(input.change.utf8)
        let checked = try Self.check(jwsBytes, user: user)
        guard checked.org == keyId, checked.action == action else {
            throw Problem(code: .trustChangeInvalid,
                          detail: "the signed change is \(checked.action.rawValue) of \(checked.org), not \(action.rawValue) of \(keyId)")
        }
        let denials = try await verified(input.denials ?? [], org: keyId, user: user)
        let outcome = try await store.applyTrustChange(checked, jws: jwsBytes, denials: denials, keepArrivals: input.keepArrivals == true,
                                                 now: Timestamp.now())
        let checkpoint = try await ledger.anchorForAnswer(index: outcome.lastIndex,
                                                          detail: "the trust change is recorded but its checkpoint could not be signed yet")
        guard let org = try await store.org(keyId: keyId) else { throw Problem(code: .internalError, detail: "the organization vanished") }
        return JSONBody(AdminAPI.TrustChangeResult(
            org: Self.info(org, signedPins: try await store.signedPins()), change: outcome.kind.rawValue, leafIndex: outcome.leafIndex,
            denied: outcome.denied.map { .init(id: $0.id, leafIndex: $0.leafIndex) },
            leftPending: input.keepArrivals == true ? outcome.leftPending : nil, checkpointSize: checkpoint.size))
    }

    @Sendable func deny(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.DenyPendingResult> {
        let keyId = try Self.keyId(context)
        let input = try await Self.body(AdminAPI.DenyPendingInput.self, request, what: "a list of denials", invalid: Problem(
            code: .badRequest, detail: "expected {\"denials\":[{\"id\",\"protected\",\"signature\"}]} (vault-cli deny --org KEY --all)"))
        guard !input.denials.isEmpty else { throw Problem(code: .badRequest, detail: "no denials given") }
        let denials = try await verified(input.denials, org: keyId, user: try userKey())
        let result = try await store.denyPending(org: keyId, denials: denials, now: Timestamp.now())
        var size: Int64?
        if let last = result.denied.last {
            size = try await ledger.anchorForAnswer(index: last.leafIndex, detail: "the denials are recorded but their checkpoint could not be signed yet").size
        }
        return JSONBody(AdminAPI.DenyPendingResult(org: keyId, denied: result.denied.map { .init(id: $0.id, leafIndex: $0.leafIndex) },
                                                   skipped: result.skipped, checkpointSize: size))
    }
}
