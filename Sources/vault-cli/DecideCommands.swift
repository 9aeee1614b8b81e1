import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal
#if canImport(Glibc)
import Glibc
#endif

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
            signed checkpoint. First it shows the request as `review` does and what approving \
            means; on a terminal it asks you to type "yes" (--yes skips that question; the \
            warnings and the sentence are printed all the same).

            Example: vault-cli approve study-2026
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The request id.")
    var requestId: String

    @Option(parsing: .unconditional, help: "The organization's key id, when several used the same request id.")
    var org: String?

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    @Flag(help: "Do not ask to confirm on a terminal (what approving means is still printed).")
    var yes = false

    @Flag(help: "A compute request run once: release its output without asking (scripts).")
    var release = false

    @Flag(help: "A compute request run once: withhold its output without asking (scripts).")
    var withhold = false

    func validate() throws {
        if release && withhold { throw ValidationError("give --release or --withhold, not both") }
    }

    func execute() async throws {
        let client = try global.client()
        // Cheap checks (daemon up, request pending) before the passphrase.
        let request = try await DecisionMaker.pending(id: requestId, org: org, client: client)
        // Never blind: who asks, the warnings and what approving means, before anything is signed.
        let screen = try await Reviewer(client: client).screen(for: request)
        let input = TerminalInput()
        let (bold, warn) = emphasis()
        if input.isTerminal && !yes {
            writeRaw(screen.render(bold: bold, warn: warn))
            if screen.paramsCut {
                // No [v]iew here: the whole params before the question.
                writeRaw("The whole params of the job (theirs, escaped):\n" + screen.paramsLines(limit: nil).joined(separator: "\n") + "\n")
            }
            await input.settleAfterDrawing()
            guard input.ask(screen.confirmation(bold: bold, warn: warn))?.lowercased() == "yes" else {
                throw VaultError(.badRequest, "not approved; nothing was signed")
            }
        } else {
            for line in screen.warnings { print("! " + line) }
            print("Approving: " + screen.meaning)
        }
        let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
        let r = try await DecisionMaker(client: client, keys: keys).decide(request, kind: .grant)
        print(grantedLine(r, compute: screen.access.isCompute))
        try await runOnceJob(screen.access, org: request.org, client: client, keys: keys,
                             choice: release ? .release : withhold ? .withhold : .ask, input: input)
    }
}

struct DenyCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "deny",
        abstract: "Deny a pending request, or all of one organization's (signed by you, recorded in the ledger).",
        discussion: """
            `deny ID` denies one request. `deny --org KEY --all` denies every pending request of \
            that organization with one passphrase entry: it shows the count and asks you to \
            confirm (--yes skips the question; without a terminal --yes is required).

            Example: vault-cli deny study-2026 --reason "not now"   or   vault-cli deny --org ABCD-EFGH-IJKL-MNOP --all
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The request id (not with --all).")
    var requestId: String?

    @Option(parsing: .unconditional, help: "The organization's key id, when several used the same request id; with --all, whose requests.")
    var org: String?

    @Flag(help: "Deny all pending requests of the organization given with --org.")
    var all = false

    @Flag(help: "With --all: do not ask for confirmation.")
    var yes = false

    @Option(help: "Why, shown to the organization.")
    var reason: String?

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func validate() throws {
        if let reason, let problem = UntrustedText.problem(with: UntrustedText.normalized(reason), field: "--reason", limits: .reason) {
            throw ValidationError(problem)
        }
        if all {
            guard requestId == nil else { throw ValidationError("give either a request id or --all, not both") }
            guard let org else { throw ValidationError("--all needs --org KEY: whose pending requests to deny") }
            try validateOrgReference(org)
        } else {
            guard requestId != nil else { throw ValidationError("give the request id to deny, or --org KEY --all") }
            if yes { throw ValidationError("--yes goes with --all") }
        }
    }

    func execute() async throws {
        let client = try global.client()
        if all, let org {
            try await denyAll(client: client, org: try resolveOrg(org, among: try await client.orgs()))
            return
        }
        // Cheap checks (daemon up, request pending) before the passphrase.
        let request = try await DecisionMaker.pending(id: requestId ?? "", org: org, client: client)
        let maker = DecisionMaker(client: client, keys: try await global.unlock(passphraseFile: passphraseFile, for: client))
        let r = try await maker.decide(request, kind: .deny, reason: reason.map(UntrustedText.normalized))
        print("denied \(r.id); ledger entry #\(r.leafIndex) in checkpoint \(r.checkpointSize)")
    }

    /// Cheap checks (daemon up, organization known, something pending) and the confirmation
    /// come before the passphrase.
    func denyAll(client: AdminClient, org: String) async throws {
        let vault = try await client.vault()
        guard let known = try await client.orgs().first(where: { $0.keyId == org }) else {
            throw VaultError(.notFound, "no organization \(org) is known to this vault; nothing was denied")
        }
        let pending = try await TrustChanger.pending(client, org: org)
        guard !pending.isEmpty else {
            print("no pending requests from \(known.fingerprint); nothing to deny")
            return
        }
        // The organization's claimed name is not shown here: the fingerprint and the person's
        // own name for it (validated when pinned) are what identify it.
        let who = known.pinSigned == false ? "" : known.pinnedName.map { " \"\($0)\" (your name for it)" } ?? ""
        if !yes {
            guard isatty(0) != 0 else {
                throw VaultError(.badRequest, "refusing to deny \(pending.count) request(s) without confirmation: run it in a terminal or pass --yes; nothing was denied")
            }
            eprint("Deny all \(pending.count) pending request(s) from \(known.fingerprint)\(who)? [y/N] ")
            let answer = String((readLine(strippingNewline: true) ?? "").filter { !$0.isWhitespace }).lowercased()
            guard answer == "y" || answer == "yes" else {
                throw VaultError(.badRequest, "not confirmed; nothing was denied")
            }
        }
        let changer = try TrustChanger(client: client, keys: try global.unlock(passphraseFile: passphraseFile), vault: vault)
        let r = try await changer.denyAll(org: org, requests: pending, reason: reason)
        print("denied \(r.denied.count) pending request(s) of \(known.fingerprint)" + (r.checkpointSize.map { " in checkpoint \($0)" } ?? ""))
        for d in r.denied { print("  \(d.id)  ledger entry #\(d.leafIndex) (request.denied)") }
        if !r.skipped.isEmpty {
            print("skipped \(r.skipped.count) no longer pending: \(r.skipped.joined(separator: ", "))")
        }
    }
}

/// What a grant did, as `approve` and the review prompt say it: the keys the person re-sealed
/// and signed for, the ledger entry, and any older segment left out.
func grantedLine(_ r: AdminAPI.DecisionResult, compute: Bool = false) -> String {
    if compute {
        return "granted \(r.id): a compute grant signed by you (no key and no reading leaves); ledger entry #\(r.leafIndex) in checkpoint \(r.checkpointSize)"
    }
    var line = "granted \(r.id): \(r.segments) segment key(s) re-sealed to the organization and signed by you; "
        + "ledger entry #\(r.leafIndex) in checkpoint \(r.checkpointSize)"
    if let skipped = r.unboundSkipped, skipped > 0 {
        line += "\n\(skipped) older segment(s) in range were left out: their keys could not be bound to their segment, so they are never granted"
    }
    return line
}
