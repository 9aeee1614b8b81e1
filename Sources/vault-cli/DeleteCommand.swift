import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

/// `vault-cli delete`: the person deletes a stream's readings in a time range, signed and
/// recorded (docs/PROTOCOL.md §"Deleting a range").
struct DeleteCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete",
        abstract: "Delete a stream's readings in a time range (signed by you, recorded in the ledger).",
        discussion: """
            Deletes the readings of one stream with --from ≤ t < --to (or exactly at --at). \
            Buckets inside the range go whole; a bucket the range cuts through is decrypted \
            here and what stays is written back under a new key (also sealed to every live \
            grant that covers it). Before anything changes it says exactly how many readings go \
            and asks you to type yes (--yes for scripts). The ledger records a data.deleted \
            entry: which segments, how many readings, the range. What an organization already \
            fetched stays with it.

            Examples:
              vault-cli delete --stream home/livingroom/temperature --at 2026-11-24T10:00:00Z
              vault-cli delete --stream home/livingroom/temperature --from 2026-11-24 --to 2026-11-25
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "The stream.")
    var stream: String

    @Option(help: "First time deleted (RFC 3339, a date, or integer milliseconds).")
    var from: String?

    @Option(help: "Delete up to, not including, this time.")
    var to: String?

    @Option(help: "Delete the readings at exactly this time (instead of --from/--to).")
    var at: String?

    @Flag(help: "Do not ask before deleting (for scripts).")
    var yes = false

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    @Option(help: "Where the last verified checkpoint is remembered (as for log verify; default under your config directory).")
    var logState: String?

    func validate() throws {
        if let problem = StreamName.problem(with: stream) { throw ValidationError(problem) }
        for (name, value) in [("--from", from), ("--to", to), ("--at", at)] {
            if let value, Timestamp.parseFlexible(value) == nil { throw ValidationError("\(name): not a time: \(value)") }
        }
        if at != nil {
            guard from == nil, to == nil else { throw ValidationError("give --at, or --from and --to, not both") }
        } else {
            guard from != nil, to != nil else { throw ValidationError("give --from and --to (or --at for one time)") }
            if let a = from.flatMap(Timestamp.parseFlexible), let b = to.flatMap(Timestamp.parseFlexible), a >= b {
                throw ValidationError("--from must be before --to")
            }
        }
    }

    var range: (from: Int64, to: Int64) {
        if let t = at.flatMap(Timestamp.parseFlexible) { return (t, t + 1) }
        return (Timestamp.parseFlexible(from!)!, Timestamp.parseFlexible(to!)!)
    }

    var rangeText: String {
        if let at { return "at \(Timestamp.rfc3339(milliseconds: Timestamp.parseFlexible(at)!))" }
        return "from \(Timestamp.rfc3339(milliseconds: range.from)) to \(Timestamp.rfc3339(milliseconds: range.to))"
    }

    func execute() async throws {
        let client = try global.client()
        let deleter = RangeDeleter(client: client)
        let (from, to) = range
        // Cheap checks before the passphrase: the daemon answers, the stream exists, the range holds something.
        guard try await !deleter.overlapping(stream: stream, from: from, to: to).isEmpty else {
            print("\(stream) has no readings \(rangeText); nothing deleted")
            return
        }
        if !yes, !TerminalInput().isTerminal {
            throw VaultError(.badRequest, "deleting asks you to confirm: run it in a terminal, or pass --yes; nothing was deleted")
        }
        let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
        let verifying = ProgressBar(label: "verifying the log", total: 0, unit: "leaves", enabled: ProgressBar.stderrIsTerminal)
        let progress = ProgressBar(label: "reading", total: 0, unit: "chunks", enabled: ProgressBar.stderrIsTerminal)
        let plan = try await deleter.plan(stream: stream, from: from, to: to, keys: keys, logState: logState.map(FileIO.absolute),
                                          verifying: verifying, progress: progress)
        verifying.finish()
        progress.finish()
        guard plan.readings > 0, let first = plan.first, let last = plan.last else {
            print("\(stream) has no readings \(rangeText); nothing deleted")
            return
        }
        let whole = plan.whole.count + plan.segments.filter { $0.replacement == nil }.count
        var what = "\(count(plan.readings, "reading")) of \(stream) \(rangeText)"
        what += first == last ? " (at \(Timestamp.rfc3339(milliseconds: first)))" : " (\(Timestamp.rfc3339(milliseconds: first)) → \(Timestamp.rfc3339(milliseconds: last)))"
        if !yes {
            var lines = ["This deletes \(what)."]
            var cut = "\(count(whole, "segment")) deleted whole, \(count(plan.replacements.count, "segment")) cut through"
            if plan.kept > 0 {
                cut += plan.kept == 1 ? " (1 reading outside the range stays" : " (\(count(plan.kept, "reading")) outside the range stay"
                cut += plan.replacements.count == 1 ? ", re-encrypted under a new key)" : ", re-encrypted under new keys)"
            }
            lines.append(cut + ".")
            if !plan.grants.isEmpty {
                lines.append("Live grants cover this data: \(plan.grants.joined(separator: ", ")). What they already fetched stays with them.")
            }
            lines.append("Deleted readings cannot be brought back.")
            print(lines.joined(separator: "\n"))
            let answer = TerminalInput().ask("Type yes to delete \(count(plan.readings, "reading")) › ")
            guard answer?.lowercased() == "yes" else { throw VaultError(.badRequest, "not deleted") }
        }
        let result = try await deleter.apply(plan, keys: keys)
        print("deleted \(what) (signed by you; ledger entry #\(result.leafIndex))")
    }
}
