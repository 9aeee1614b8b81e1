import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The vault's ledger: show it, verify all of it, print its verifier key.",
        subcommands: [Show.self, Verify.self, VerifyProof.self, Key.self])

    struct Show: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show ledger entries (you see all of them; organizations only their own).",
            discussion: """
                Without --from-index, the newest entries (--limit, 100) are shown, and a line says \
                how many older ones there are.

                Examples: vault-cli log show --type org.violation
                          vault-cli log show --from-index 0 --limit 20
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only entries of this type (vault.genesis, org.seen, request.received, grant.issued, …).")
        var type: String?

        @Option(parsing: .unconditional, help: "Only entries about this organization (key id or fingerprint; a key id may start with -).")
        var org: String?

        @Option(name: [.customLong("from-index"), .customLong("from")], help: "First entry index (default: the newest --limit entries).")
        var from: Int64?

        @Option(help: "At most this many entries.")
        var limit: Int = 100

        @Flag(help: "Print each entry's exact JSON, one per line.")
        var json = false

        func validate() throws {
            if let from, from < 0 { throw ValidationError("--from-index must be 0 or more") }
            if limit < 1 { throw ValidationError("--limit must be 1 or more") }
        }

        func execute() async throws {
            let client = try global.client()
            var org: String?
            if let named = self.org {
                // A fingerprint of a known organization names its key; anything else is taken as the key id.
                org = fingerprintDigits(named) != nil && !isKeyId(named) ? try resolveOrg(named, among: try await client.orgs()) : named
            }
            var entries: [AdminAPI.Leaf] = []
            var older = 0
            // Where to start: as asked, or for the newest entries of the whole log where its size
            // says they start; the newest of a filtered view need reading the matches (below).
            var first = from
            if first == nil && type == nil && org == nil {
                let size = try await client.leaves(from: 0, limit: 1).size
                first = max(0, size - Int64(limit))
                older = Int(first!)
            }
            if let first {
                var next: Int64? = first
                while let start = next, entries.count < limit {
                    let page = try await client.leaves(from: start, limit: min(1000, limit - entries.count), type: type, org: org)
                    entries += page.leaves
                    next = page.next
                }
            } else {
                // The newest matching entries: read the matches in order, keep the last ones.
                var next: Int64? = 0
                var matched = 0
                while let start = next {
                    let page = try await client.leaves(from: start, limit: 1000, type: type, org: org)
                    matched += page.leaves.count
                    entries += page.leaves
                    if entries.count > limit { entries.removeFirst(entries.count - limit) }
                    next = page.next
                }
                older = matched - entries.count
            }
            for leaf in entries {
                let bytes = Encoding.fromBase64(leaf.data) ?? []
                if json {
                    printJSON(String(decoding: bytes, as: UTF8.self))
                } else {
                    print(Self.describe(index: leaf.index, bytes: bytes))
                }
            }
            if entries.isEmpty && !json { print("no entries") }
            if older > 0 {
                let note = (older == 1 ? "1 older entry" : "\(older) older entries") + " not shown (--from-index 0 shows from the first)\n"
                if json { eprint(note) } else { print(note, terminator: "") }
            }
        }

        static func describe(index: Int64, bytes: [UInt8]) -> String {
            guard let leaf = try? LedgerLeaf(bytes: bytes), case .object(let o) = leaf.json else {
                return "#\(index)  (unreadable entry)"
            }
            let details = o.keys.sorted().filter { !["type", "time", "salt"].contains($0) }.map { k -> String in
                let v = o[k]!
                // One entry, one line: a value from outside cannot start another or drive the terminal.
                return "\(k)=\(TerminalText.escape(v.stringValue ?? String(decoding: v.serialized(), as: UTF8.self)))"
            }
            return "#\(index)  \(Timestamp.rfc3339(milliseconds: leaf.time))  \(leaf.type)  " + details.joined(separator: " ")
        }
    }

    struct Verify: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Verify the whole ledger and remember the latest verified checkpoint.",
            discussion: """
                Recomputes the Merkle tree from every stored leaf, checks every checkpoint's \
                signature and root, and compares with the checkpoint this command verified last \
                time (kept in your config directory), checking the gateway's consistency proof \
                from it: a rolled-back or rewritten log fails even if every table was rewritten. \
                On failure it names the first bad leaf or checkpoint and exits 1.

                Example: vault-cli log verify
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Where to remember the last verified checkpoint (default: in your config directory).")
        var state: String?

        @Option(help: "A C2SP tlog-policy file: the served checkpoint must also carry its quorum of witness cosignatures.")
        var policy: String?

        func execute() async throws {
            let policy = try self.policy.map { try TlogPolicy.load(path: FileIO.absolute($0)) }
            let client = try global.client()
            let key = try await client.logKey()
            let statePath = state.map(FileIO.absolute) ?? LogVerifier.defaultStatePath(origin: key.origin)
            let progress = ProgressBar(label: "verify", total: 0, unit: "leaves")
            let report = try await LogVerifier(client: client, statePath: statePath).verify(progress: progress)
            progress.finish()
            print("log verified: \(report.leaves) leaves, \(report.checkpoints) checkpoints, all signed by \(key.origin)")
            print("latest checkpoint: size \(report.latest.size), root \(Encoding.base64(report.latest.root))")
            if let p = report.previous {
                print("consistent with the checkpoint verified on \(p.verifiedAt) (size \(p.size))")
            } else {
                print("first verification: remembered in \(statePath)")
            }
            if let policy {
                let q = try await QuorumCheck.served(client: client, policy: policy, logKey: try SignedNote.Verifier(key.verifierKey),
                                                     verified: report.latest)
                print("checkpoint \(q.checkpoint.size) meets the policy's quorum"
                      + (q.cosigners.isEmpty ? " (it asks for no cosignature)" : ", cosigned by \(q.cosigners.keys.sorted().joined(separator: ", "))"))
            }
        }
    }

    struct VerifyProof: VaultCommand {
        static let configuration = CommandConfiguration(
            commandName: "verify-proof",
            abstract: "Check c2sp.org/tlog-proof@v1 files offline: the log's signature, the policy's quorum and each entry's inclusion.",
            discussion: """
                Receipts are written as .tlog-proof files by `org fetch` and `org results`. Several files of one log are                 also checked against each other: two different checkpoints of the same size prove the log forked.                 Needs no network.

                Example: vault-cli log verify-proof results/grant.tlog-proof results/0.tlog-proof --log-key "$(cat vault-log.vkey)" --policy policy.txt
                """)

        @OptionGroup(visibility: .hidden) var global: GlobalOptions

        @Argument(help: "The .tlog-proof files.")
        var files: [String]

        @Option(help: "The log's verifier key (C2SP signed-note Ed25519 key).")
        var logKey: String

        @Option(help: "A C2SP tlog-policy file the checkpoints' cosignatures must satisfy.")
        var policy: String?

        func validate() throws {
            guard !files.isEmpty else { throw ValidationError("give at least one .tlog-proof file") }
            guard files.count <= 10_000 else { throw ValidationError("at most 10000 files at once") }
            if let problem = PeerChange.logKeyProblem(logKey) { throw ValidationError("--log-key: \(problem)") }
        }

        func execute() async throws {
            let policy = try self.policy.map { try TlogPolicy.load(path: FileIO.absolute($0)) }
            let reports = try QuorumCheck.verifyProofs(paths: files.map(FileIO.absolute), logKey: try SignedNote.Verifier(logKey), policy: policy)
            for r in reports {
                print("\(r.path): entry #\(r.index) (\(TerminalText.escape(r.leaf.type))) is in checkpoint \(r.checkpoint.size)"
                      + (policy == nil ? "" : ", cosigned to the policy's quorum"))
            }
        }
    }

    struct Key: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Print the log's verifier key (C2SP signed-note form).", discussion: "Example: vault-cli log key > edgevault-verifier.txt")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            print(try await global.client().logKey().verifierKey)
        }
    }
}
