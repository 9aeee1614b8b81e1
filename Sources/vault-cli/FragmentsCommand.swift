import ArgumentParser
import EdgeVaultCore
import EdgeVaultClient
import EdgeVaultStore

/// `vault-cli fragments …` (docs/PROTOCOL.md §"Fragments"): the vault's encrypted backup kept
/// as k-of-n fragment sets on the peers' gateways.
struct FragmentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fragments",
        abstract: "Keep your encrypted backup as fragments on your peers' gateways (any k of n shares give it back).",
        discussion: """
            vaultd makes a backup, encrypts it whole under a fresh key sealed to you, cuts it into segments, \
            encodes each k-of-n (Reed–Solomon, ISA-L) and sends each share to a peer, never k shares \
            of a segment to one peer; a fragments.placed entry in your log records where every share is.

            Example: vault-cli fragments push --k 3 --n 8
            """,
        subcommands: [Push.self, Status.self, Audit.self, Restore.self])

    struct Push: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Back up the vault onto the peers as fragment sets (one log entry per set).",
            discussion: "Needs at least ceil(n / (k − 1)) peers added with a URL and a witness key.\n\nExample: vault-cli fragments push --k 3 --n 8")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Shares needed to rebuild a segment.")
        var k = 3

        @Option(help: "Shares made of each segment.")
        var n = 8

        @Option(help: "Bytes per segment (one set each).")
        var segmentBytes = 64 << 20

        func validate() throws {
            guard k >= 2, n > k, n <= 255 else { throw ValidationError("--k and --n need 2 ≤ k < n ≤ 255") }
            guard segmentBytes >= 1 else { throw ValidationError("--segment-bytes must be positive") }
        }

        func execute() async throws {
            eprint("placing a fresh backup on your peers (\(k)-of-\(n))…\n")
            // One line per set as vaultd places it (the progress of a long push).
            let result = try await global.client().pushFragments(.init(k: k, n: n, segmentBytes: segmentBytes)) { set in
                let holders = Dictionary(grouping: set.shares, by: { $0.peerName ?? $0.peer }).map { "\($0.key)×\($0.value.count)" }.sorted()
                print("set \(set.segment + 1)/\(set.segments) \(set.storageIndex): \(set.size) bytes, \(set.k)-of-\(set.n) on \(holders.joined(separator: ", ")) (log entry \(set.leafIndex))")
            }
            print("pushed \(result.backupBytes) backup bytes as \(result.sets.count) set(s); checkpoint size \(result.checkpointSize)")
        }
    }

    struct Status: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Each fragment set's health: shares placed, shares that passed their last audit.",
            discussion: "Example: vault-cli fragments status")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            let sets = try await global.client().fragments().sets
            guard !sets.isEmpty else {
                print("no fragments placed yet (vault-cli fragments push)")
                return
            }
            for set in sets {
                let audited = set.shares.compactMap(\.auditedAt).max()
                let health = audited == nil ? "not audited yet" : "\(set.healthyShares)/\(set.n) healthy, last audit \(audited!)"
                let state = set.replacedBy.map { "replaced by \($0)" } ?? (audited != nil && set.healthyShares <= set.k ? "AT RISK" : "ok")
                print("\(set.storageIndex) push \(set.push) set \(set.segment + 1)/\(set.segments): \(set.size) bytes \(set.k)-of-\(set.n), \(health) [\(state)]")
                for share in set.shares where share.healthy == false {
                    // A peer's words: escaped whole, so no line feed of theirs starts a line of its own.
                    print("  share \(share.n) on \(TerminalText.escape(share.peerName ?? share.peer)): \(TerminalText.escape(share.lastError ?? "failed its audit"))")
                }
            }
        }
    }

    struct Audit: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Challenge every share now; re-encode a set left with fewer than k + 1 healthy shares onto the peers that answer.",
            discussion: "vaultd also does this every fragments.audit_interval_seconds (daily).\n\nExample: vault-cli fragments audit")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            let r = try await global.client().auditFragments()
            print("audited \(r.sets) set(s): \(r.healthy)/\(r.shares) shares healthy")
            for f in r.failures { print("  failed: \(TerminalText.escape(f))") }
            for repair in r.repairs {
                if let by = repair.by {
                    print("  repaired: \(repair.replaced) re-encoded as \(by)")
                } else {
                    print("  NOT repaired: \(repair.replaced): \(TerminalText.escape(repair.error ?? "unknown error"))")
                }
            }
            if r.repairs.contains(where: { $0.by == nil }) { throw ExitCode(1) }
        }
    }

    struct Restore: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rebuild your vault on a new gateway from the fragments on your peers (asks for your passphrase).",
            discussion: """
                Needs only your key file and one peer's URL: the peer lists the sets it keeps for you \
                (signed with your key); only sets proven, from your key, to be in your vault's log \
                count; any k shares of each are fetched from the peers named in their log entries, \
                every share and segment is checked against its hash, the blob they make is decrypted \
                with your key, and the backup in it is restored as `vault-cli restore` does. Start vaultd on the data \
                directory afterwards, then `vault-cli log verify`.

                Example: vault-cli fragments restore --from-peer http://bob.local:8443 --data-dir /var/lib/edgevault
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "The public URL of any peer holding your fragments.")
        var fromPeer: String

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        @Flag(help: "Restore an older backup when the newest one your log proves cannot be rebuilt (what came after it is lost).")
        var allowOlder = false

        func execute() async throws {
            let config = try global.configuration()
            try Backup.checkTarget(dataDir: config.dataDir)
            let keys = try global.unlock(passphraseFile: passphraseFile)
            let outcome = try await FragmentRestore.restore(fromPeer: fromPeer, dataDir: config.dataDir, keys: keys, allowOlder: allowOlder) {
                eprint("\(TerminalText.escape($0))\n")
            }
            print("restored \(TerminalText.escape(outcome.header.origin)) (backup of \(TerminalText.escape(outcome.header.created)), push \(outcome.push), "
                  + "\(count(outcome.sets, "set"))) into \(config.dataDir); \(count(outcome.replayedLeaves, "log entry", plural: "log entries")) after the backup put back")
            print("the restored log has \(count(outcome.logSize, "entry", plural: "entries")); the largest checkpoint of it your peers hold proof of: "
                  + "\(outcome.provenLogSize) (from \(count(outcome.listedPeers, "peer"))' lists)")
            if let newer = outcome.newerPush {
                eprint("warning: this is push \(outcome.push), older than the newest push \(newer) your log proves: readings that came in between are lost\n")
            }
            if outcome.logSize < outcome.provenLogSize {
                eprint("warning: your log had reached \(outcome.provenLogSize) entries; entries \(outcome.logSize)…\(outcome.provenLogSize - 1) were not in this backup. "
                       + "Your peers' witnesses will see the restored log as a fork (docs/OPERATIONS.md, \"When the gateway dies\")\n")
            }
            if outcome.rejectedDeposits > 0 {
                eprint("note: your peers listed \(count(outcome.rejectedDeposits, "set")) not proven to be in your vault's log; they were ignored\n")
            }
        }
    }
}
