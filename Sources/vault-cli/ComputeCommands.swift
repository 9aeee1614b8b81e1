import ArgumentParser
import EdgeVaultCore
import EdgeVaultClient
import EdgeVaultCompute
import EdgeVaultTerminal
#if canImport(Glibc)
import Glibc
#endif

/// How a run's output is decided: asked on the terminal, or given by a flag (scripts).
enum ReleaseChoice {
    case ask, release, withhold
}

/// Shows a run's output (paged on a terminal: 40 lines at a time), its stderr, fuel and exit.
func showRun(output: [UInt8], stderr: [UInt8], fuel: UInt64, exit: Int32?, failure: JobFailure?, detail: String, input: TerminalInput) {
    let (bold, warn) = emphasis()
    writeRaw(bold("Output") + " (\(output.count) bytes, \(OutputView.kind(of: output).rawValue); the program's own words)\n")
    let lines = OutputView.lines(output)
    var shown = 0
    while shown < lines.count {
        let page = lines[shown..<min(shown + 40, lines.count)]
        writeRaw(page.map { "  " + $0 }.joined(separator: "\n") + "\n")
        shown += page.count
        if shown < lines.count, input.isTerminal {
            guard input.ask("-- \(lines.count - shown) more lines: Enter for the next page, s to skip to the end › ")?.lowercased() != "s" else {
                writeRaw("  (\(lines.count - shown) lines not shown)\n")
                break
            }
        }
    }
    if !stderr.isEmpty {
        writeRaw(bold("Messages") + " (stderr, never sent)\n")
        writeRaw(OutputView.lines(stderr).prefix(20).map { "  " + $0 }.joined(separator: "\n") + "\n")
    }
    var summary = "fuel used \(fuel)"
    if let exit { summary += ", exit \(exit)" }
    writeRaw(summary + "\n")
    if let failure {
        writeRaw(warn("The run failed: \(failure.explanation)") + (detail.isEmpty ? "" : " (\(TerminalText.escape(detail)))") + "\n")
    }
}

/// Asks release or withhold (or takes the flag's answer).
func decideRelease(_ choice: ReleaseChoice, input: TerminalInput, what: String) throws -> ComputeRun.Outcome {
    switch choice {
    case .release: return .released
    case .withhold: return .withheld
    case .ask:
        guard input.isTerminal else {
            throw VaultError(.badRequest, "\(what) waits for your decision: run it in a terminal, or pass --release or --withhold")
        }
        while true {
            switch input.ask("Send this output to the organization? [r]elease  [w]ithhold › ")?.lowercased() {
            case "r", "release": return .released
            case "w", "withhold": return .withheld
            case nil: throw VaultError(.badRequest, "no answer; nothing was sent (the run waits: vault-cli approve is not repeated)")
            default: writeRaw("answer r (release) or w (withhold)\n")
            }
        }
    }
}

/// A `once` compute grant, just approved: decrypt the in-scope readings, run the module in
/// the sandbox, show the output and record the person's decision (docs/PROTOCOL.md §"Compute results").
func runOnceJob(_ access: AccessRequest, org: String, client: AdminClient, keys: UserKeys, choice: ReleaseChoice, input: TerminalInput) async throws {
    guard let job = access.job, job.schedule == .once else { return }
    let jobs = ComputeJobs(client: client, keys: keys)
    let stdin = try await jobs.input(for: access)
    writeRaw("running \(job.module.prefix(23))… over \(count(stdin.readings, "reading")) in the sandbox (limits: \(job.limits.wallMs) ms)\n")
    let outcome = try await jobs.run(job, input: stdin, created: access.created)
    showRun(output: outcome.stdout, stderr: outcome.stderr, fuel: outcome.fuelUsed, exit: outcome.exit, failure: outcome.failure,
            detail: outcome.detail, input: input)
    let run = ComputeRun(grant: access.id, seq: 0, module: job.module, input: stdin.digest, readings: stdin.readings,
                         output: outcome.failure == nil ? JobInput.digest(outcome.stdout) : nil, fuel: outcome.fuelUsed,
                         exit: outcome.exit, reason: outcome.failure)
    let decision: ComputeRun.Outcome = outcome.failure != nil ? .failed : try decideRelease(choice, input: input, what: "the output")
    let r = try await jobs.decide(run, org: org, outcome: decision, output: outcome.stdout, deliveryKey: access.deliveryKey)
    print(decisionLine(r, grant: access.id))
}

func decisionLine(_ r: AdminAPI.ComputeDecisionResult, grant: String) -> String {
    let what = switch r.status {
    case "released": "released to the organization (sealed to its delivery key)"
    case "withheld": "withheld: nothing was sent"
    default: "recorded as failed: nothing was sent"
    }
    return "run \(r.seq) of \(grant) \(what); ledger entry #\(r.leafIndex) in checkpoint \(r.checkpointSize)"
}

/// `vault-cli results`: per-segment runs waiting for the person.
struct ResultsCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "results",
        abstract: "Review outputs of compute grants waiting for you: release or withhold each.",
        discussion: """
            A compute grant with `per-segment` runs and `review` release keeps each output, \
            sealed to you, until you decide. On a terminal this shows each output in turn and \
            asks [r]elease, [w]ithhold or [s]kip; otherwise it lists them (decide with \
            vault-cli release ID SEQ or vault-cli withhold ID SEQ).

            Example: vault-cli results
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func execute() async throws {
        let client = try global.client()
        let runs = try await client.pendingRuns()
        guard !runs.isEmpty else {
            print("no outputs wait for you")
            return
        }
        let input = TerminalInput()
        guard input.isTerminal else {
            for r in runs {
                print("\(r.grant)  run \(r.seq)  \(count(r.readings, "reading"))  ran \(r.ran)  org \(Fingerprint.of(thumbprint: r.org) ?? r.org)")
            }
            print("decide with: vault-cli release ID SEQ  or  vault-cli withhold ID SEQ")
            return
        }
        let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
        let jobs = ComputeJobs(client: client, keys: keys)
        let grants = try await client.grants()
        for r in runs {
            guard let grant = try grantAccess(r, grants: grants, vault: try await client.vault(), keys: keys) else { continue }
            let (output, stderr) = try jobs.open(try await client.pendingRun(r))
            writeRaw(String(repeating: "─", count: 78) + "\n")
            print("grant \(r.grant) (\(Fingerprint.of(thumbprint: r.org) ?? r.org)), run \(r.seq): \(count(r.readings, "reading")) of segment \(r.segment ?? "?"), ran \(r.ran)")
            showRun(output: output, stderr: stderr, fuel: r.fuel, exit: r.exit, failure: nil, detail: "", input: input)
            switch input.ask("[r]elease  [w]ithhold  [s]kip  [q]uit › ")?.lowercased() {
            case "r", "release":
                print(decisionLine(try await jobs.decide(r.run, org: r.org, outcome: .released, output: output, deliveryKey: grant.deliveryKey), grant: r.grant))
            case "w", "withhold":
                print(decisionLine(try await jobs.decide(r.run, org: r.org, outcome: .withheld, output: nil, deliveryKey: grant.deliveryKey), grant: r.grant))
            case "q", "quit", nil:
                return
            default:
                print("skipped run \(r.seq) of \(r.grant)")
            }
        }
    }
}

/// The grant a pending run belongs to, read from the request the person co-signed (its
/// delivery key is where a released output goes).
func grantAccess(_ run: AdminAPI.PendingRun, grants: [AdminAPI.GrantSummary], vault: AdminAPI.VaultInfo, keys: UserKeys) throws -> AccessRequest? {
    // The co-signed request decides where an output goes: the organization that signed it
    // must be the run's, and its id the run's grant (a daemon could list another grant here).
    guard let g = grants.first(where: { $0.org == run.org && $0.id == run.grant }), g.jws != nil else {
        throw VaultError(.scopeViolation, "grant \(run.grant) does not carry your co-signature (the daemon's records look tampered); nothing was sent")
    }
    guard let access = g.coSignedRequest(origin: vault.origin, keys: keys), access.id == run.grant, access.job?.module == run.module else {
        throw VaultError(.scopeViolation, "grant \(run.grant) does not carry your valid co-signature for this module; nothing was sent")
    }
    return access
}

/// `vault-cli release ID SEQ` and `vault-cli withhold ID SEQ`: one decision, for scripts too.
struct ReleaseCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Release one waiting output of a compute grant to the organization.",
        discussion: """
            Shows the output first; on a terminal asks you to type yes (--yes skips the \
            question). The output is sealed to the grant's delivery key and recorded as a \
            compute.released ledger entry signed by you.

            Example: vault-cli release study-2026 3
            """)

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The grant id.") var grantId: String
    @Argument(help: "The run's number (vault-cli results lists them).") var seq: Int64
    @Option(help: "Read the passphrase from this file instead of asking.") var passphraseFile: String?
    @Flag(help: "Do not ask to confirm.") var yes = false

    func execute() async throws { try await decideOne(global: global, grant: grantId, seq: seq, outcome: .released, passphraseFile: passphraseFile, yes: yes) }
}

struct WithholdCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "withhold",
        abstract: "Withhold one waiting output of a compute grant: nothing is sent, the decision is recorded.",
        discussion: "Example: vault-cli withhold study-2026 3")

    @OptionGroup var global: GlobalOptions
    @Argument(help: "The grant id.") var grantId: String
    @Argument(help: "The run's number (vault-cli results lists them).") var seq: Int64
    @Option(help: "Read the passphrase from this file instead of asking.") var passphraseFile: String?

    func execute() async throws { try await decideOne(global: global, grant: grantId, seq: seq, outcome: .withheld, passphraseFile: passphraseFile, yes: true) }
}

func decideOne(global: GlobalOptions, grant: String, seq: Int64, outcome: ComputeRun.Outcome, passphraseFile: String?, yes: Bool) async throws {
    let client = try global.client()
    let matches = try await client.pendingRuns().filter { $0.grant == grant && $0.seq == seq }
    guard let run = matches.first else { throw VaultError(.notFound, "no output of grant \(grant) run \(seq) waits for you (vault-cli results lists them)") }
    guard matches.count == 1 else { throw VaultError(.badRequest, "several organizations have a grant \(grant) with a run \(seq) waiting") }
    let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
    let jobs = ComputeJobs(client: client, keys: keys)
    guard let access = try grantAccess(run, grants: try await client.grants(), vault: try await client.vault(), keys: keys) else { return }
    let (output, stderr) = try jobs.open(try await client.pendingRun(run))
    let input = TerminalInput()
    if outcome == .released {
        showRun(output: output, stderr: stderr, fuel: run.fuel, exit: run.exit, failure: nil, detail: "", input: input)
        if !yes {
            guard input.isTerminal else { throw VaultError(.badRequest, "refusing to release without confirmation: run it in a terminal or pass --yes") }
            guard input.ask("Release this output to the organization? Type yes › ")?.lowercased() == "yes" else {
                throw VaultError(.badRequest, "not released; nothing was sent")
            }
        }
    }
    let r = try await jobs.decide(run.run, org: run.org, outcome: outcome, output: outcome == .released ? output : nil, deliveryKey: access.deliveryKey)
    print(decisionLine(r, grant: grant))
}

/// `vault-cli modules`: the programs organizations brought; `modules rm NAME` removes one.
struct ModulesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "modules",
        abstract: "The WebAssembly modules organizations uploaded: list them, or remove one no grant uses.",
        discussion: "Example: vault-cli modules   or   vault-cli modules rm sha256:1a2b…",
        subcommands: [ModulesList.self, ModulesRemove.self],
        defaultSubcommand: ModulesList.self)
}

struct ModulesList: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "list",
        abstract: "List the modules, who brought each and which requests and grants name it.",
        discussion: "Example: vault-cli modules list")

    @OptionGroup var global: GlobalOptions

    func execute() async throws {
        let modules = try await global.client().modules()
        guard !modules.isEmpty else {
            print("no modules: no organization has uploaded a program")
            return
        }
        for m in modules {
            print("\(m.name)  \(m.size) bytes  from \(Fingerprint.of(thumbprint: m.org) ?? m.org)  first seen \(m.firstSeen)")
            print("  requests: \(m.requests.isEmpty ? "none" : m.requests.joined(separator: ", "))")
            print("  grants:   \(m.grants.isEmpty ? "none" : m.grants.joined(separator: ", "))")
        }
    }
}

struct ModulesRemove: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "rm",
        abstract: "Remove a module that no live grant and no pending request names (frees its upload quota).",
        discussion: """
            Organizations' uploads share quotas (docs/PROTOCOL.md, compute jobs): removing \
            modules nobody uses makes room. A module a live grant or a pending request names is \
            refused: revoke or deny those first. The organization can upload it again.

            Example: vault-cli modules rm sha256:1a2b…
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The module's name (sha256:<hex>, as vault-cli modules lists it).")
    var name: String

    @Flag(help: "Do not ask to confirm.")
    var yes = false

    func validate() throws {
        guard ComputeJob.digest(of: name) != nil else { throw ValidationError("a module's name is sha256: and 64 lowercase hex digits") }
    }

    func execute() async throws {
        let client = try global.client()
        guard let module = try await client.modules().first(where: { $0.name == name }) else {
            throw VaultError(.notFound, "no module \(name) on this vault")
        }
        if !yes {
            guard isatty(0) != 0 else { throw VaultError(.badRequest, "refusing to remove a module without confirmation: run it in a terminal or pass --yes") }
            eprint("Remove \(name) (\(module.size) bytes, from \(Fingerprint.of(thumbprint: module.org) ?? module.org))? [y/N] ")
            let answer = String((readLine(strippingNewline: true) ?? "").filter { !$0.isWhitespace }).lowercased()
            guard answer == "y" || answer == "yes" else { throw VaultError(.badRequest, "not confirmed; nothing was removed") }
        }
        try await client.removeModule(name)
        print("removed \(name) (\(module.size) bytes)")
    }
}
