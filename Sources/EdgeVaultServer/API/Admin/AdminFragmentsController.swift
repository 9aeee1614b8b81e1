import EdgeVaultCore
import EdgeVaultStore
import Hummingbird

/// Fragments on peers, on the admin socket (docs/PROTOCOL.md §"Fragments"): the daemon holds
/// the witness key the peers know, so it makes the signed calls; the CLI asks it to.
struct AdminFragmentsController<Context: RequestContext>: Sendable {
    let fragments: FragmentService

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/fragments", use: status)
        router.post("/v1/fragments/push", use: push)
        router.post("/v1/fragments/audit", use: audit)
    }

    @Sendable func audit(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.FragmentsAuditResult> {
        JSONBody(try await fragments.audit())
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.FragmentsStatus> {
        JSONBody(try await fragments.status())
    }

    @Sendable func push(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.FragmentsPushResult> {
        let input = try await AdminOrgsController<Context>.body(AdminAPI.FragmentsPushInput.self, request, what: "a push", invalid: Problem(
            code: .badRequest, detail: "send {\"k\":3,\"n\":8} (optionally \"segmentBytes\")"))
        return JSONBody(try await fragments.push(input))
    }
}
