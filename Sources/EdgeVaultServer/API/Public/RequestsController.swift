import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultCompute
import Hummingbird
import NIOCore

/// `POST /v1/requests`, `GET /v1/requests/{id}`, `DELETE /v1/requests/{id}` (docs/PROTOCOL.md §"Access request").
struct RequestsController: Sendable {
    let store: VaultStore
    let ledger: LedgerService
    let limits: RequestLimits
    let notifier: RequestNotifier
    let violations: ViolationRecorder

    typealias Status = OrgAPI.RequestState

    func addRoutes(to group: RouterGroup<OrgRequestContext>) {
        group.post("", use: submit)
        group.get("{id}", use: status)
        group.delete("{id}", use: withdraw)
    }

    @Sendable func submit(_ request: Request, context: OrgRequestContext) async throws -> JSONBody<Status> {
        if let type = request.headers[.contentType], !type.hasPrefix("application/jose+json"), !type.hasPrefix("application/json") {
            throw Problem(code: .unsupportedMediaType, detail: "send the JWS as application/jose+json")
        }
        let jws: JWS
        do {
            jws = try JWS(json: context.body)
        } catch {
            // crit or an unprotected header: a request this vault will not read (RFC 7515 §4.1.11).
            throw Problem(code: error.isUnsupported ? .requestInvalid : .jwsInvalid, detail: error.detail)
        }
        guard jws.signatures.count == 1 else {
            throw Problem(code: .jwsInvalid, detail: "a request carries exactly one signature, the organization's")
        }
        let (kid, key): (String, SigningPublicKey)
        do {
            (kid, key) = try jws.verifyOrgSignature(jws.signatures[0])
        } catch {
            throw Problem(code: .jwsInvalid, detail: error.detail)
        }
        guard kid == context.org.keyId, key == context.org.publicKey else {
            throw Problem(code: .jwsInvalid, detail: "the JWS is signed by \(kid) but the HTTP signature by \(context.org.keyId)")
        }
        let now = Timestamp.now()
        let access: AccessRequest
        do {
            access = try AccessRequest(payload: jws.payload, origin: ledger.origin, now: now)
        } catch {
            switch error.kind {
            case .wrongVault: throw Problem(code: .wrongVault, detail: error.detail)
            case .request: throw Problem(code: .requestInvalid, detail: error.detail)
            }
        }
        if let job = access.job {
            // The module must be here, and fit the limits the person will be asked to approve.
            guard let module = try await store.module(name: job.module) else {
                throw Problem(code: .moduleMissing, detail: "this vault does not hold module \(job.module); upload it first (PUT /v1/modules/\(job.module))")
            }
            do {
                try WasmModuleInfo.inspect(module).check(against: job.limits)
            } catch {
                throw Problem(code: .moduleInvalid, detail: error.reason)
            }
        }
        try await store.submitRequest(orgKeyId: kid, orgPublicKey: key.bytes, request: access, payload: jws.payload, jws: context.body,
                                limits: limits, now: now)
        await ledger.appended()
        await notifier.bump()
        return JSONBody(Status(id: access.id, status: RequestStatus.pending.rawValue), status: .accepted)
    }

    @Sendable func status(_ request: Request, context: OrgRequestContext) async throws -> JSONBody<Status> {
        let id = try context.parameters.require("id")
        guard let r = try await store.requestStatus(org: context.org.keyId, id: id, now: Timestamp.now()) else {
            throw await notYours(id, context)
        }
        return JSONBody(Status(id: id, status: r.status, reason: r.reason))
    }

    @Sendable func withdraw(_ request: Request, context: OrgRequestContext) async throws -> JSONBody<Status> {
        let id = try context.parameters.require("id")
        do {
            try await store.withdrawRequest(org: context.org.keyId, id: id, now: Timestamp.now())
        } catch let error as VaultError where error.code == .notFound {
            throw await notYours(id, context)
        }
        await ledger.appended()
        return JSONBody(Status(id: id, status: RequestStatus.withdrawn.rawValue))
    }

    /// 404 for an id the caller does not hold; asking for one is also an `org.violation`
    /// (docs/SECURITY.md threat model: an organization cannot exceed its scope unnoticed). It is recorded whether or
    /// not another organization holds that id, so the public log's growth says nothing about
    /// other organizations' ids.
    func notYours(_ id: String, _ context: OrgRequestContext) async -> Problem {
        await violations.record(org: context.org.keyId, kind: "other-org-request", detail: "asked for request \(id), which is not theirs")
        return Problem(code: .notFound, detail: "no request \(id) of yours")
    }
}
