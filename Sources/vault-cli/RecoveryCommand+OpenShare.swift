import ArgumentParser
import EdgeVaultCore
import EdgeVaultClient
import EdgeVaultRecovery
#if canImport(Glibc)
import Glibc
#endif

extension RecoveryCommand {
    /// `vault-cli recovery open-share NAME` (docs/PROTOCOL.md §"Key recovery", "Shares sealed to
    /// peers"): on a peer's gateway, its person opens the share the person NAME left there.
    struct OpenShare: VaultCommand {
        static let configuration = CommandConfiguration(
            commandName: "open-share",
            abstract: "Open the recovery share a peer's person left sealed with this gateway, to give it back to them.",
            discussion: """
                Only for the person it belongs to, on the day they have lost their key: make sure it is them (in \
                person, or on a call you trust) before you read them the words. The words are shown on this \
                terminal only, and the opening is recorded in your log (recovery.share-opened).

                Example: vault-cli recovery open-share alice
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "The peer whose share to open (its name in `vault-cli peer list`).")
        var peer: String

        @Flag(help: "Do not ask for confirmation.")
        var yes = false

        func execute() async throws {
            guard isatty(1) != 0 else {
                throw VaultError(.badRequest, "standard output is not a terminal: a recovery share is shown only on a terminal")
            }
            let name = TerminalText.escape(peer)
            if !yes {
                guard isatty(0) != 0 else { throw VaultError(.badRequest, "refusing to open a share without confirmation: run it in a terminal or pass --yes") }
                eprint("Open the recovery share \(name) left here? Read it only to \(name), once you are sure it is them; the opening is recorded in your log. [y/N] ")
                let answer = String((readLine(strippingNewline: true) ?? "").filter { !$0.isWhitespace }).lowercased()
                guard answer == "y" || answer == "yes" else { throw VaultError(.badRequest, "not confirmed; the share stays sealed") }
            }
            let r = try await global.client().openRecoveryShare(peer: peer)
            // What the share itself says, not what its envelope claims; and nothing but a valid
            // SLIP-0039 share is shown (a sealed text of any other kind is the sender's mistake or
            // a trick).
            let info: ShareInfo
            do { info = try Slip39.check(mnemonic: r.mnemonic) } catch {
                throw VaultError(.recoveryInvalid, "what \(name) left here is not a valid SLIP-0039 share; do not pass it on (opening recorded as ledger entry #\(r.leafIndex))")
            }
            print("\(name)'s recovery share: member \(info.memberIndex + 1) of group \(info.groupIndex + 1) (\(info.memberThreshold) of that group needed), "
                  + "left here \(TerminalText.escape(r.storedAt)) (ledger entry #\(r.leafIndex)):")
            print(SharesScreen.numbered(r.mnemonic))
            print("They type it at `vault-cli recovery recover`. Clear your screen once they have it.")
        }
    }
}
