import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

/// `vault-cli peer …` (docs/PROTOCOL.md §"Peers"): other stakeholders' gateways that witness
/// this vault's log while this vault witnesses theirs.
struct PeerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer",
        abstract: "Peers: other households' gateways that cosign this vault's checkpoints while this vault cosigns theirs.",
        discussion: """
            A peer's witness cosigns each checkpoint of your log only when it extends the one it cosigned before, so \
            your log cannot be rewritten or rolled back without every witness noticing. Adding and removing a peer is \
            signed with your key and recorded in the ledger.

            Example, on two gateways:
              alice$ vault-cli peer key          # prints Alice's witness key; shows the command for Bob
              bob$   vault-cli peer add http://alice.local:8443 --log-key … --witness-key … --name alice
            """,
        subcommands: [Key.self, Add.self, List.self, Remove.self])

    struct Key: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print this vault's witness key (what peers pass as --witness-key).",
            discussion: "The command a peer types to add this vault goes to standard error.\n\nExample: vault-cli peer key")

        @OptionGroup var global: GlobalOptions

        @Option(help: "This vault's public URL as peers reach it, for the printed command (e.g. http://alice.local:8443).")
        var url: String?

        func execute() async throws {
            let peers = try await global.client().peers()
            print(peers.witnessKey)
            eprint("log key:     \(peers.logKey)\n")
            eprint("on a peer:   vault-cli peer add \(url ?? "http://THIS-GATEWAY:8443") --log-key \(peers.logKey) "
                   + "--witness-key \(peers.witnessKey) --name NAME\n")
        }
    }

    struct Add: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a peer: this vault witnesses its log and submits its own checkpoints to its witness. Signed by you.",
            discussion: "Both keys come from the peer's `vault-cli peer key`.\n\nExample: vault-cli peer add http://bob.local:8443 --log-key edgevault.local/AbC…+1a2b3c4d+AX… --witness-key edgevault.local/AbC…/witness+5e6f7a8b+BC… --name bob")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The peer's public URL (http:// or https://, its public listener).")
        var url: String

        @Option(help: "The peer's log key (C2SP verifier key; its name is the peer's origin).")
        var logKey: String

        @Option(help: "The peer's witness key (C2SP cosignature/v1 verifier key).")
        var witnessKey: String

        @Option(help: "Your name for the peer (default: the URL's host).")
        var name: String?

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        var resolvedName: String {
            name.map(UntrustedText.normalized) ?? String(url.split(separator: "/").dropFirst().first ?? Substring(url))
        }

        func validate() throws {
            if let problem = PeerChange.urlProblem(url) { throw ValidationError("URL: \(problem)") }
            if let problem = PeerChange.logKeyProblem(logKey) { throw ValidationError("--log-key: \(problem)") }
            if let problem = PeerChange.witnessKeyProblem(witnessKey) { throw ValidationError("--witness-key: \(problem)") }
            if let problem = TrustChange.nameProblem(resolvedName) { throw ValidationError("--name: \(problem)") }
        }

        func execute() async throws {
            let changer = try await peerChanger(global, passphraseFile: passphraseFile)
            let r = try await changer.add(name: resolvedName, logKey: logKey, witnessKey: witnessKey, url: url)
            print("added peer \"\(r.name)\": this vault witnesses its log, and sends its own checkpoints to its witness; "
                  + "ledger entry #\(r.leafIndex) (\(r.change)) in checkpoint \(r.checkpointSize)")
        }
    }

    struct List: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "List peers, the witnesses of this vault's log with their progress, and alarms.",
            discussion: "Example: vault-cli peer list")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            let p = try await global.client().peers()
            print("this vault's witness key: \(p.witnessKey)")
            if p.peers.isEmpty {
                print("no peers (vault-cli peer add, vault-cli witness add-log)")
            } else {
                printTable(header: ["PEER", "ROLE", "URL", "ITS LOG COSIGNED UP TO", "ADDED"], rows: p.peers.map {
                    [$0.name, $0.witnessKey == nil ? "log witnessed" : "peer", $0.url ?? "-",
                     $0.witnessedSize.map(String.init) ?? "not yet", $0.addedAt]
                })
            }
            printWitnesses(p)
        }
    }

    struct Remove: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Remove a peer or a witnessed log. Signed by you; this vault keeps what it cosigned of its log.",
            discussion: "Example: vault-cli peer remove bob")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Your name for the peer (vault-cli peer list).")
        var name: String

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        func execute() async throws {
            let changer = try await peerChanger(global, passphraseFile: passphraseFile)
            let r = try await changer.remove(name: UntrustedText.normalized(name))
            print("removed peer \"\(r.name)\"; ledger entry #\(r.leafIndex) (\(r.change)) in checkpoint \(r.checkpointSize)")
        }
    }
}

/// `vault-cli witness add-log VKEY`: witness any C2SP log.
struct WitnessCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "witness",
        abstract: "Witness other C2SP transparency logs with this vault's witness key.",
        subcommands: [AddLog.self])

    struct AddLog: VaultCommand {
        static let configuration = CommandConfiguration(
            commandName: "add-log",
            abstract: "Cosign checkpoints of a C2SP log (its verifier key's name is its origin). Signed by you.",
            discussion: "The log submits to this vault's public listener at /v1/witness/add-checkpoint.\n\nExample: vault-cli witness add-log example.com/log+5e6f7a8b+AX… --name example")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The log's verifier key (C2SP signed-note Ed25519 key).")
        var logKey: String

        @Option(help: "Your name for the log (default: its origin).")
        var name: String?

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        func validate() throws {
            if let problem = PeerChange.logKeyProblem(logKey) { throw ValidationError("log key: \(problem)") }
        }

        func execute() async throws {
            let origin = try SignedNote.Verifier(logKey).name
            let name = self.name.map(UntrustedText.normalized) ?? origin
            if let problem = TrustChange.nameProblem(name) { throw VaultError(.badRequest, "--name: \(problem)") }
            let changer = try await peerChanger(global, passphraseFile: passphraseFile)
            let r = try await changer.add(name: name, logKey: logKey, witnessKey: nil, url: nil)
            print("this vault now witnesses \(origin) as \"\(r.name)\"; ledger entry #\(r.leafIndex) (\(r.change)) in checkpoint \(r.checkpointSize)")
        }
    }
}

/// The witnesses of this vault's log and any alarm (`peer list`, `status`).
func printWitnesses(_ p: AdminAPI.Peers) {
    if p.witnesses.isEmpty {
        print("witnesses: none (checkpoints are signed by this vault alone)")
    } else {
        print("witnesses of this vault's log:")
        printTable(header: ["  WITNESS", "COSIGNED UP TO", "LAST COSIGNED", "PROBLEM"], rows: p.witnesses.map {
            ["  " + $0.name, $0.cosignedSize == 0 ? "nothing yet" : "\($0.cosignedSize)", $0.lastSuccess ?? "never",
             $0.lastError == nil ? "-" : "failing (below)"]
        })
        for w in p.witnesses where w.lastError != nil {
            print("  \(w.name): \(w.lastError ?? "") (\(w.failures) failed attempt(s) in a row)")
        }
    }
    if !p.alarms.isEmpty {
        print("ALARM: witnesses refused this vault's log \(p.alarms.count) time(s): it forked or was rolled back, "
              + "or a witness lies (the more witnesses agree, the likelier the first). Latest:")
        for a in p.alarms.prefix(5) {
            print("  \(a.at)  \(a.detail)")
        }
    }
}

/// The person's signer of peer changes: the key file unlocked and checked against the vault.
func peerChanger(_ global: GlobalOptions, passphraseFile: String?) async throws -> PeerChanger {
    let client = try global.client()
    return try PeerChanger(client: client, keys: try global.unlock(passphraseFile: passphraseFile), vault: try await client.vault())
}
