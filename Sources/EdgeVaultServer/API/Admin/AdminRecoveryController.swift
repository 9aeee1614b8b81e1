import EdgeVaultCore
import EdgeVaultStore
import Hummingbird

/// The person's recovery policy, on the admin socket (docs/PROTOCOL.md §"Key recovery"): a
/// signed `edgevault.recovery-policy/v1` appends a `recovery.policy` leaf with the groups and
/// thresholds. No share ever reaches the daemon.
struct AdminRecoveryController<Context: RequestContext>: Sendable {
    let store: VaultStore
    let ledger: LedgerService

    func addRoutes(to router: Router<Context>) {
        router.post("/v1/recovery/policy", use: record)
    }

    @Sendable func record(_ request: Request, context: Context) async throws -> JSONBody<AdminAPI.RecoveryPolicyResult> {
        let input = try await AdminOrgsController<Context>.body(AdminAPI.RecoveryPolicyInput.self, request, what: "a recovery policy", invalid: Problem(
            code: .recoveryPolicyInvalid,
            detail: "a recovery policy must be signed by the person: send {\"policy\":<signed edgevault.recovery-policy/v1 JWS>} (vault-cli recovery record)"))
        let jwsBytes = Array(input.policy.utf8)
        let checked = try ledger.checkPersonSigned(jwsBytes, code: .recoveryPolicyInvalid, RecoveryPolicy.check(_:userKeyId:userKey:))
        let index = try await store.applyRecoveryPolicy(checked, jws: jwsBytes, now: Timestamp.now())
        let checkpoint = try await ledger.anchorForAnswer(index: index, detail: "the recovery policy is recorded but its checkpoint could not be signed yet")
        return JSONBody(AdminAPI.RecoveryPolicyResult(leafIndex: index, checkpointSize: checkpoint.size))
    }
}
