import EdgeVaultCore
import EdgeVaultStore
import Hummingbird
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Fragments on peers, on the admin socket (docs/PROTOCOL.md §"Fragments"): the daemon holds
/// the witness key the peers know, so it makes the signed calls; the CLI asks it to.
struct AdminFragmentsController<Context: RequestContext>: Sendable {
    let fragments: FragmentService

    func addRoutes(to router: Router<Context>) {
        router.get("/v1/fragments", use: status)
        router.post("/v1/fragments/push", use: push)
        router.post("/v1/fragments/audit", use: audit)
        router.post("/v1/recovery/peer-shares", use: deliverShares)
        router.post("/v1/recovery/held-shares/open", use: openShare)
    }

    @Sendable func deliverShares(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.RecoverySharesResult> {
        let input = try await AdminOrgsController<Context>.body(AdminAPI.RecoverySharesInput.self, request, what: "sealed recovery shares", invalid: Problem(
            code: .badRequest, detail: "send {\"shares\":[{\"peer\":<name>,\"share\":<sealed share JSON>}]} (vault-cli recovery split --seal-group)"))
        return JSONBody(try await fragments.deliverRecoveryShares(input))
    }

    @Sendable func openShare(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.OpenShareResult> {
        let input = try await AdminOrgsController<Context>.body(AdminAPI.OpenShareInput.self, request, what: "a peer's name", invalid: Problem(
            code: .badRequest, detail: "send {\"peer\":<name>} (vault-cli recovery open-share NAME)"))
        return JSONBody(try await fragments.openRecoveryShare(peer: input.peer))
    }

    @Sendable func audit(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.FragmentsAuditResult> {
        JSONBody(try await fragments.audit())
    }

    @Sendable func status(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.FragmentsStatus> {
        JSONBody(try await fragments.status())
    }

    /// Checked first (a refusal is an ordinary problem document); then NDJSON as the push goes:
    /// `{"set": …}` per set placed, and last `{"result": …}` or `{"problem": …}`.
    @Sendable func push(_ request: Request, context: Context) async throws -> Response {
        let input = try await AdminOrgsController<Context>.body(AdminAPI.FragmentsPushInput.self, request, what: "a push", invalid: Problem(
            code: .badRequest, detail: "send {\"k\":3,\"n\":8} (optionally \"segmentBytes\")"))
        _ = try await fragments.check(input)
        let (events, continuation) = AsyncStream.makeStream(of: AdminAPI.FragmentsPushEvent.self)
        let fragments = self.fragments, logger = context.logger
        Task {
            do {
                let result = try await fragments.push(input) { continuation.yield(.init(set: $0)) }
                continuation.yield(.init(result: result))
            } catch {
                let problem: Problem = (error as? Problem) ?? (error as? VaultError).map { Problem($0) }
                    ?? Problem(code: .internalError, detail: "the push failed; see the vaultd log")
                logger.error("fragments push failed", metadata: ["error": "\(error)"])
                continuation.yield(.init(problem: problem))
            }
            continuation.finish()
        }
        return Response(status: .ok, headers: [.contentType: "application/x-ndjson"], body: ResponseBody { writer in
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            for await event in events { try await writer.write(ByteBuffer(bytes: Array(try encoder.encode(event)) + [0x0A])) }
            try await writer.finish(nil)
        })
    }
}
