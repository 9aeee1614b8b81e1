import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

struct StreamCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stream",
        abstract: "Manage streams (named series of readings).",
        discussion: """
            By default vaultd creates a stream the first time a reading names it (setting \
            ingest.auto_create_streams, on by default); with it off, add streams here first.
            """,
        subcommands: [Add.self, List.self, Retention.self])

    struct Add: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "Add a stream.", discussion: "Example: vault-cli stream add home/livingroom/temperature --kind temperature --unit Cel")

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Stream name, e.g. home/livingroom/temperature (A-Z a-z 0-9 . _ - : @ + and '/').")
        var name: String

        @Option(help: "What it measures, e.g. temperature.")
        var kind: String?

        @Option(help: "Unit, e.g. Cel.")
        var unit: String?

        @Option(help: "Bucket length in seconds (the unit of encryption and of granting); default 3600.")
        var bucket: Int64?

        @Option(help: "Keep a bucket's data this long after it ends, e.g. 90d, 12h (default: forever). Signed by you: asks for your passphrase.")
        var retention: String?

        @Option(help: "Read the passphrase from this file instead of asking (with --retention).")
        var passphraseFile: String?

        func validate() throws {
            if let problem = StreamName.problem(with: name) { throw ValidationError(problem) }
            if let bucket, bucket < 1 || bucket > 366 * 86_400 { throw ValidationError("--bucket must be between 1 and 31622400 seconds") }
            if let retention, RetentionDuration.seconds(retention) == nil { throw ValidationError(RetentionDuration.help) }
        }

        func execute() async throws {
            let client = try global.client()
            let s = try await client.addStream(.init(name: name, kind: kind, unit: unit, bucketSeconds: bucket))
            print("added stream \(s.name) (bucket \(s.bucketSeconds) s)")
            if let seconds = retention.flatMap(RetentionDuration.seconds) {
                let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
                let r = try await client.setRetention(RetentionChange.make(vault: try await client.vault().origin, stream: s.name,
                                                                           retentionSeconds: seconds, at: Timestamp.now(), keys: keys))
                print("\(s.name): data kept \(RetentionDuration.text(seconds)) after each bucket ends (signed by you; ledger entry #\(r.leafIndex))")
            }
        }
    }

    struct Retention: VaultCommand {
        static let configuration = CommandConfiguration(
            abstract: "Set how long a stream's data is kept.",
            discussion: """
                Whole segments whose bucket ended longer ago than this are deleted by vaultd (every \
                ingest.retention_sweep_seconds); the ledger records each deletion as a data.deleted \
                entry: which segments, how many readings, up to when. Grants then list nothing for \
                the deleted data. `off` keeps the data forever. When the new setting would delete \
                data the current one keeps, it says how much (segments, readings, from when to \
                when) and asks you to type yes; --yes answers for scripts.

                Example: vault-cli stream retention home/livingroom/temperature 90d
                """)

        @OptionGroup var global: GlobalOptions

        @Argument(help: "Stream name.")
        var name: String

        @Argument(help: "How long, with its unit: 90d, 12h, 30m or 3600s; or off.")
        var duration: String

        @Flag(help: "Do not ask before a setting that deletes data now (for scripts).")
        var yes = false

        @Option(help: "Read the passphrase from this file instead of asking.")
        var passphraseFile: String?

        func validate() throws {
            if duration != "off", RetentionDuration.seconds(duration) == nil { throw ValidationError(RetentionDuration.help) }
        }

        func execute() async throws {
            let client = try global.client()
            let seconds = duration == "off" ? nil : RetentionDuration.seconds(duration)
            if let seconds { try await confirmDeletion(client: client, seconds: seconds) }
            else if try await client.streams().contains(where: { $0.name == name }) == false { throw VaultError(.notFound, "no stream \"\(name)\"") }
            // Cheap checks and the confirmation first; then the person signs the change.
            let keys = try await global.unlock(passphraseFile: passphraseFile, for: client)
            let r = try await client.setRetention(RetentionChange.make(vault: try await client.vault().origin, stream: name,
                                                                       retentionSeconds: seconds, at: Timestamp.now(), keys: keys))
            let s = r.stream
            if let kept = s.retentionSeconds {
                print("\(s.name): data kept \(RetentionDuration.text(kept)) after each bucket ends; older segments are deleted and logged (signed by you; ledger entry #\(r.leafIndex))")
            } else {
                print("\(s.name): data kept forever (signed by you; ledger entry #\(r.leafIndex))")
            }
        }

        /// What the new setting deletes at the next sweep that the current one keeps: said in
        /// numbers, and confirmed (a typed yes on a terminal, --yes otherwise) before anything
        /// changes. Deleted readings cannot be brought back.
        func confirmDeletion(client: AdminClient, seconds: Int64) async throws {
            guard let stream = try await client.streams().first(where: { $0.name == name }) else {
                throw VaultError(.notFound, "no stream \"\(name)\"")
            }
            let now = Timestamp.now()
            let expired = { (keep: Int64) in { (s: AdminAPI.Segment) in !s.open && s.endMs <= now - keep * 1000 } }
            let doomed = try await client.segments(streams: [name], from: 0, to: Timestamp.maxMilliseconds)
                .filter(expired(seconds))
                .filter { s in stream.retentionSeconds.map { !expired($0)(s) } ?? true }
            guard let first = doomed.map(\.startMs).min(), let last = doomed.map(\.endMs).max() else { return }
            let readings = doomed.reduce(Int64(0)) { $0 + $1.readings }
            let what = "\(count(doomed.count, "segment")) of \(name) (\(count(readings, "reading")), "
                + "\(Timestamp.rfc3339(milliseconds: first)) → \(Timestamp.rfc3339(milliseconds: last)))"
            guard !yes else { return }
            guard TerminalInput().isTerminal else {
                throw VaultError(.badRequest, "keeping \(name) for \(RetentionDuration.text(seconds)) deletes \(what) within minutes; "
                                 + "run it in a terminal to confirm, or pass --yes; nothing was changed")
            }
            let answer = TerminalInput().ask("Keeping \(name) for \(RetentionDuration.text(seconds)) deletes \(what) within minutes. "
                                             + "They cannot be brought back. Type yes to go on › ")
            guard answer?.lowercased() == "yes" else { throw VaultError(.badRequest, "not changed") }
        }
    }

    struct List: VaultCommand {
        static let configuration = CommandConfiguration(abstract: "List streams.", discussion: "Example: vault-cli stream list")

        @OptionGroup var global: GlobalOptions

        func execute() async throws {
            let streams = try await global.client().streams()
            if streams.isEmpty {
                print("no streams")
                return
            }
            printTable(header: ["STREAM", "KIND", "UNIT", "BUCKET", "RETENTION", "CREATED"],
                       rows: streams.map { [$0.name, $0.kind.isEmpty ? "-" : $0.kind, $0.unit.isEmpty ? "-" : $0.unit, "\($0.bucketSeconds)s",
                                            $0.retentionSeconds.map(RetentionDuration.text) ?? "forever", $0.createdAt] })
        }
    }
}

/// Durations for retention: `90d`, `12h`, `30m` or `3600s`. A bare number is refused: `90`
/// meant days to the person who typed it and seconds to the daemon, and deleted their data.
enum RetentionDuration {
    static let help = "a duration must look like 90d, 12h, 30m or 3600s, with its unit (between 1 second and 100 years)"

    static func seconds(_ text: String) -> Int64? {
        let units: [Character: Int64] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
        guard let last = text.last, let unit = units[last] else { return nil }
        let number = Substring(text).dropLast()
        guard let n = Int64(number), n >= 1, n <= 100 * 366 * 86_400 / unit else { return nil }
        return n * unit
    }

    static func text(_ seconds: Int64) -> String {
        if seconds % 86_400 == 0 { return "\(seconds / 86_400)d" }
        if seconds % 3600 == 0 { return "\(seconds / 3600)h" }
        if seconds % 60 == 0 { return "\(seconds / 60)m" }
        return "\(seconds)s"
    }
}
