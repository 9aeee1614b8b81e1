import ArgumentParser
import EdgeVault

/// `vault-cli approve ID` and `vault-cli deny ID`: the review prompt's decisions, for scripts.
struct ApproveCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "approve",
        abstract: "Grant a pending request: re-seal the segment keys in scope to the organization and co-sign.",
        discussion: """
            Asks for your passphrase (or --passphrase-file), opens the sealed keys of the segments \
            whose whole bucket lies in the request's range, re-seals them to the request's delivery \
            key and appends your signature to the organization's JWS. The daemon accepts it only \
            after checking both signatures and the payload, and answers once the grant is in a \
            signed checkpoint.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The request id.")
    var requestId: String

    @Option(parsing: .unconditional, help: "The organization's key id, when several used the same request id.")
    var org: String?

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func execute() async throws {
        let client = try global.client()
        // Cheap checks (daemon up, request pending) before the passphrase.
        let request = try await DecisionMaker.pending(id: requestId, org: org, client: client)
        let maker = DecisionMaker(client: client, keys: try await global.unlock(passphraseFile: passphraseFile, for: client))
        let r = try await maker.decide(request, kind: .grant)
        print("granted \(r.id): \(r.segments) segment key(s) re-sealed to the organization and signed by you; ledger entry #\(r.leafIndex) in checkpoint \(r.checkpointSize)")
    }
}

struct DenyCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny a pending request (signed by you, recorded in the ledger).")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The request id.")
    var requestId: String

    @Option(parsing: .unconditional, help: "The organization's key id, when several used the same request id.")
    var org: String?

    @Option(help: "Why, shown to the organization.")
    var reason: String?

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func validate() throws {
        if let reason, let problem = UntrustedText.problem(with: UntrustedText.normalized(reason), field: "--reason", limits: .reason) {
            throw ValidationError(problem)
        }
    }

    func execute() async throws {
        let client = try global.client()
        // Cheap checks (daemon up, request pending) before the passphrase.
        let request = try await DecisionMaker.pending(id: requestId, org: org, client: client)
        let maker = DecisionMaker(client: client, keys: try await global.unlock(passphraseFile: passphraseFile, for: client))
        let r = try await maker.decide(request, kind: .deny, reason: reason.map(UntrustedText.normalized))
        print("denied \(r.id); ledger entry #\(r.leafIndex) in checkpoint \(r.checkpointSize)")
    }
}
