import ArgumentParser
import EdgeVault
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

struct LogCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "log",
        abstract: "The vault's ledger: show it, verify all of it, print its verifier key.",
        subcommands: [Show.self, Verify.self, Key.self])

    struct Show: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Show ledger entries (you see all of them; organizations only their own).")

        @OptionGroup var global: GlobalOptions

        @Option(help: "Only entries of this type (vault.genesis, org.seen, request.received, grant.issued, …).")
        var type: String?

        @Option(parsing: .unconditional, help: "Only entries about this organization (key id; may start with -).")
        var org: String?

        @Option(help: "First entry index.")
        var from: Int64 = 0

        @Option(help: "At most this many entries.")
        var limit: Int = 100

        @Flag(help: "Print each entry's exact JSON, one per line.")
        var json = false

        func validate() throws {
            if from < 0 { throw ValidationError("--from must be 0 or more") }
            if limit < 1 { throw ValidationError("--limit must be 1 or more") }
        }

        func execute() async throws {
            let client = try global.client()
            var next: Int64? = from
            var shown = 0
            while let start = next, shown < limit {
                let page = try await client.leaves(from: start, limit: min(1000, limit - shown), type: type, org: org)
                for leaf in page.leaves {
                    let bytes = Encoding.fromBase64(leaf.data) ?? []
                    if json {
                        printJSON(String(decoding: bytes, as: UTF8.self))
                    } else {
                        print(Self.describe(index: leaf.index, bytes: bytes))
                    }
                    shown += 1
                }
                next = page.next
            }
            if shown == 0 && !json { print("no entries") }
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
                """)

        @OptionGroup var global: GlobalOptions

        @Option(help: "Where to remember the last verified checkpoint (default: in your config directory).")
        var state: String?

        func execute() async throws {
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
        }
    }

    struct Key: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Print the log's verifier key (C2SP signed-note form).")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            print(try await global.client().logKey().verifierKey)
        }
    }
}
