import EdgeVaultCore
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// README.md's walkthroughs (the person's, the organization's and usage rights), read from the README when the test runs (an edit that breaks
/// a command fails here) and typed, line by line, into a real interactive bash on a real
/// pseudo-terminal, as a person would: in a fresh `$HOME`, as an unprivileged user (the test
/// drops to `nobody` when it runs as root), with the passphrase and "yes" typed at their prompts.
///
/// What the test changes in what the README says, and nothing else:
/// - the build line (`scripts/build-release`) is not run: the binaries under test are this
///   build's, linked as `.build/release` in a stand-in checkout (every other top-level entry of
///   the repository linked as it is), so the README's `export PATH=…` line finds them;
/// - the public address `127.0.0.1:8080` becomes a free port (8080 may be taken), everywhere
///   it appears; the README is checked to name no other address.
/// Between lines it waits, bounded, as a person reading the output would: for the shell's
/// prompt, and after a line that starts something in the background for `vaultd ready` in the
/// log that line names.
@Suite("End to end: the README's walkthroughs work as written", .serialized)
struct ReadmeWalkthroughTests {
    @Test("The README's examples agree: one address, files that exist, the request's streams and purpose match the sample data, and the top stays two commands")
    func examplesAgree() throws {
        let readme = try Readme.load()
        let (person, org) = (try readme.blocks(Readme.person), try readme.blocks(Readme.organization))
        #expect(person.count == 3, "the person's walkthrough is three blocks (before the request, the decision, after the fetch)")
        #expect(org.count == 2, "the organization's walkthrough is two blocks (the request, the fetch)")
        let commands = (person + org).flatMap { $0 }
        let usage = try readme.blocks(Readme.usage).flatMap { $0 }

        // One address: the vault's public listener on loopback, the same in every command.
        for c in commands + usage {
            for address in c.matches(of: #/\b[0-9]{1,3}(?:\.[0-9]{1,3}){3}:[0-9]+\b|https?://[^\s'"/]+/#) {
                let text = String(address.output)
                #expect(text == Readme.address || text == "http://" + Readme.address, "\(c): \(text) is not \(Readme.address)")
            }
            for vault in c.options("--vault") { #expect(vault == "http://" + Readme.address, "\(c)") }
            #expect(!c.contains("gateway.example"), "a gateway's name belongs in the prose: \(c)")
            #expect(!c.contains("/run/edgevault") && !c.contains("/var/lib/edgevault"), "the first hour needs no root: \(c)")
            #expect(!c.contains("\t") && c.unicodeScalars.allSatisfy(\.isASCII), "typed as it reads: \(c)")
        }
        #expect(commands.contains { $0.hasPrefix("vaultd ") && $0.contains("--listen " + Readme.address) }, "vaultd listens where the organization calls")

        // Every file the commands read is in the repository; every relative link resolves.
        for c in commands + usage {
            for word in c.words where ["docs/", "scripts/", "deploy/", "Modules/"].contains(where: word.hasPrefix) {
                #expect(FileManager.default.fileExists(atPath: repositoryRoot.path + "/" + word), "\(c): \(word) does not exist")
            }
        }
        for link in readme.text.matches(of: #/\]\(([^)#:]+)(?:#[^)]*)?\)/#) {
            #expect(FileManager.default.fileExists(atPath: repositoryRoot.path + "/" + String(link.output.1)), "README links to \(link.output.1)")
        }

        // The build line and the PATH line agree: scripts/build-release builds -c release,
        // which SwiftPM links as .build/release.
        #expect(commands.first == Readme.buildLine, "the walkthrough starts by building")
        #expect(try String(contentsOf: repositoryRoot.appendingPathComponent(Readme.buildLine), encoding: .utf8).contains("-c release"))
        #expect(commands.contains("export PATH=\"$PWD/.build/release:$PATH\""))

        // The organization asks for streams the sample data has, in a range that covers
        // readings, for a purpose that names what it asks for; one request id throughout.
        let request = try #require(commands.first { $0.hasPrefix("vault-cli org request ") })
        let samples = try SampleReadings.load()
        let granted = samples.covered(by: request)
        #expect(!granted.isEmpty, "the request's streams and range cover sample readings: \(request)")
        for stream in request.options("--stream") {
            let place = stream.split(separator: "/").dropFirst().first.map(String.init) ?? stream
            #expect(request.options("--purpose").first?.lowercased().contains(place) == true, "the purpose names \(place)")
        }
        let id = try #require(request.options("--id").first)
        for c in commands where c.hasPrefix("vault-cli org ") && !c.hasPrefix("vault-cli org keygen") && !c.hasPrefix("vault-cli org request") {
            #expect(c.words.dropFirst(3).first == id, "\(c) names request \(id)")
        }
        #expect(commands.contains { $0.hasPrefix("vault-cli revoke \(id) ") })

        // The brief's first hour: each of these is in the walkthrough.
        for step in ["vault-cli init", "vaultd ", "vault-cli stream add ", "| vault-cli ingest", "vault-cli ingest docs/", "vault-cli status",
                     "vault-cli export ", "vault-cli review", "vault-cli grants", "vault-cli log show", "vault-cli log verify", "vault-cli log key",
                     "vault-cli backup ", "vault-cli restore ", "vault-cli stream retention ", "vault-cli org keygen ", "vault-cli org request ",
                     "vault-cli org fetch ", "kill %"] {
            #expect(commands.contains { $0.contains(step) }, "the walkthrough has \(step)")
        }

        // The top of the README stays two commands.
        let top = try readme.blocks("## Two commands")
        #expect(top == [["./scripts/demo"], ["./scripts/test"]], "\(top)")
    }

    @Test("The person's and the organization's walkthroughs, typed in order into bash on a terminal, do what they say", .timeLimit(.minutes(10)))
    func walkthroughs() async throws {
        let readme = try Readme.load()
        let (person, org) = (try readme.blocks(Readme.person), try readme.blocks(Readme.organization))
        try #require(person.count == 3 && org.count == 2, "the README's blocks changed: see examplesAgree")
        // The order the README's prose gives: the person until the request is needed, the
        // organization asks, the person decides, the organization fetches, the person again.
        // Then the usage-rights walkthrough, which continues in the same terminal.
        let script = person[0] + org[0] + person[1] + org[1] + person[2] + (try readme.blocks(Readme.usage)).flatMap { $0 }
        let samples = try SampleReadings.load()

        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        try #require(path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/curl") },
                     "the README's curl lines need curl (scripts/test installs it)")
        let walk = try Walk()
        defer { walk.cleanUp() }
        let shell = try await walk.startShell()
        var state = WalkState()
        var completed = true

        for command in script {
            if command == Readme.buildLine { continue }  // the binaries under test are already built
            let typed = command.replacingOccurrences(of: Readme.address, with: "127.0.0.1:\(walk.port)")
            // A background line's log may already say "vaultd ready" from an earlier start.
            let readyBefore = command.hasSuffix("&") ? command.redirectTarget.map(walk.expand).flatMap { try? String(contentsOfFile: $0, encoding: .utf8) }
                .map { $0.components(separatedBy: "vaultd ready").count - 1 } ?? 0 : 0
            let r = try await shell.run(typed)
            let out = r.output
            // Every line succeeds; ingest --skip-invalid says it skipped lines with status 2
            // (its --help), and the README's comment says so.
            let expected: Int32 = command.contains("--skip-invalid") && command.contains("(exit status 2)") ? 2 : 0
            #expect(r.status == expected, "\(command)\n\(out)")
            guard r.status == expected else {
                completed = false
                break
            }
            if command.hasSuffix("&") {
                let log = try #require(command.redirectTarget.map(walk.expand), "\(command): a background line names its log")
                #expect(await walk.waitForFile(log, toContain: "vaultd ready", moreThan: readyBefore), "\(command): vaultd did not become ready\n\((try? String(contentsOfFile: log, encoding: .utf8)) ?? "")")
            }
            try await check(command, r, walk: walk, samples: samples, state: &state)
        }
        #expect(state.checked.isSuperset(of: WalkState.required), "steps not seen: \(WalkState.required.subtracting(state.checked))")
        shell.session.type("exit\r")
        let exit = await shell.session.waitForExit(timeout: .seconds(30))
        if completed { #expect(exit == 0, "the shell ends with the walkthrough") }
        // The whole terminal, to read it as the person saw it: EDGEVAULT_README_TRANSCRIPT=FILE.
        if let file = ProcessInfo.processInfo.environment["EDGEVAULT_README_TRANSCRIPT"] {
            try Data(Shell.clean(shell.session.output.text).utf8).write(to: URL(fileURLWithPath: file))
        }
    }

    /// What each step promises, checked against what it did.
    private func check(_ command: String, _ r: ShellResult, walk: Walk, samples: SampleReadings, state: inout WalkState) async throws {
        let out = r.output
        func expectOut(_ needle: String, _ step: String) {
            #expect(!command.contains(needle) && out.contains(needle), "\(command): expected \(needle)\n\(out)")
            state.checked.insert(step)
        }
        let home = walk.home
        if command.hasPrefix("vault-cli init") {
            #expect(r.prompts == [.newPassphrase, .repeatPassphrase], "init asks twice: \(r.prompts)")
            expectOut("Vault created.", "init")
            // Next: the daemon and the CLI with the data directory and admin socket the README set.
            expectOut("  vaultd --data-dir \(home)/edgevault/data --admin-socket \(home)/edgevault/admin.sock\n", "init")
            expectOut("  export EDGEVAULT_ADMIN_SOCKET=\(home)/edgevault/admin.sock\n", "init")
            state.origin = out.firstLine(after: "log origin:")
            state.verifierKey = out.firstLine(after: "log verifier key:")
            // Made by the walkthrough's user: nobody when the test runs as root.
            var key = stat()
            #expect(stat(home + "/.config/edgevault/user.key", &key) == 0 && key.st_uid == (getuid() == 0 ? 65534 : getuid()), "the key file is the user's")
        } else if command.hasPrefix("vaultd ") {
            let log = (try? String(contentsOfFile: command.redirectTarget.map(walk.expand) ?? "", encoding: .utf8)) ?? ""
            #expect(log.contains("listen=127.0.0.1:\(walk.port)") && log.contains("admin_socket=\(home)/edgevault/admin.sock"), "\(log)")
            state.vaultdLog = command.redirectTarget.map(walk.expand)
            state.checked.insert("vaultd")
        } else if command.hasPrefix("vault-cli stream add ") {
            expectOut("added stream \(command.words[3])", "stream add")
        } else if command.contains("| vault-cli ingest") {
            expectOut("stored 1 reading in 1 stream", "ingest stdin")
        } else if command.hasPrefix("vault-cli ingest docs/examples/readings.csv") {
            expectOut("stored \(samples.readings.count) readings in \(Set(samples.readings.map(\.stream)).count) streams", "ingest file")
        } else if command.hasPrefix("vault-cli ingest --skip-invalid docs/examples/old-logger.ndjson") {
            // As its comment says: line 4 is skipped, the other five stored.
            expectOut("skipped docs/examples/old-logger.ndjson line 4:", "ingest skip")
            expectOut("stored 5 readings in 1 stream; skipped 1 invalid", "ingest skip")
        } else if command.hasPrefix("vault-cli ingest --time-unit s ") {
            expectOut("stored 4 readings in 1 stream", "ingest seconds")
        } else if command.hasPrefix("vault-cli status") {
            for stream in Set(samples.readings.map(\.stream)) { expectOut("STREAM    \(stream)\n", "status") }
        } else if command.hasPrefix("vault-cli export ") {
            #expect(r.prompts == [.passphrase], "\(command): \(r.prompts)")
            let file = try #require(command.options("-o").first.map(walk.expand))
            let written = try String(contentsOfFile: file, encoding: .utf8)
            if let stream = command.options("--stream").first {
                let want = samples.ndjson(samples.readings.filter {
                    $0.stream == stream && $0.t >= Timestamp.parseFlexible(command.options("--from")[0])! && $0.t < Timestamp.parseFlexible(command.options("--to")[0])!
                })
                #expect(!want.isEmpty && Set(written.split(separator: "\n").map(String.init)) == want, "\(file):\n\(written)")
                expectOut("exported \(want.count) readings", "export")
            } else {
                // Everything: the sample file's readings among the rest, times in RFC 3339.
                let lines = written.split(separator: "\n").map(String.init)
                // The header, the sample file's readings, stdin's one, old-logger's five, the soil's four.
                #expect(lines.first == "stream,t,v" && lines.count == 1 + samples.readings.count + 1 + 5 + 4, "\(written)")
                for s in samples.readings { #expect(lines.contains("\(s.stream),\(s.time),\(s.value)"), "\(s)") }
                state.checked.insert("export all")
            }
        } else if command.hasPrefix("vault-cli org keygen ") {
            state.orgFingerprint = out.firstLine(after: "fingerprint:")
            #expect(FileManager.default.fileExists(atPath: walk.expand(command.options("-o")[0])))
            state.checked.insert("org keygen")
        } else if command.hasPrefix("vault-cli org module push ") {
            expectOut("uploaded (", "module push")
        } else if command.hasPrefix("vault-cli org request ") && command.contains("--compute") {
            expectOut("\(command.options("--id")[0]) pending", "compute request")
        } else if command.hasPrefix("vault-cli approve ") {
            // A compute request: the screen, yes, the passphrase, the output, r.
            #expect(r.prompts.filter { $0 != .nextPage } == [.approveConfirmation, .passphrase, .releaseChoice], "approve: \(r.prompts)")
            expectOut("will NOT receive your readings", "approve compute")
            expectOut("\"stream\": \"home/bedroom/temperature\"", "approve compute")
            expectOut("run 0 of \(command.words[2]) released to the organization", "approve compute")
        } else if command.hasPrefix("vault-cli modules") {
            expectOut("grants:   ", "modules")
        } else if command.hasPrefix("vault-cli org results ") {
            expectOut("verified grant \(command.words[3]); 1 output released", "org results")
        } else if command.hasPrefix("cat ") && command.hasSuffix("/0.out") {
            // The daily statistics, as the program computed them from the sample night.
            let temperatures = samples.readings.filter { $0.stream == "home/bedroom/temperature" }
            expectOut("\"type\":\"edgevault.aggregate/v1\"", "result output")
            #expect(out.contains("\"count\":\(temperatures.filter { $0.t < Timestamp.parseFlexible("2026-11-24")! }.count)"), "\(out)")
        } else if command.hasPrefix("vault-cli log show --type compute.released") {
            expectOut("nightly-stats", "log show compute")  // the compute.released entry names its grant
        } else if command.hasPrefix("vault-cli org request ") {
            state.request = command
            expectOut("\(command.options("--id")[0]) pending", "org request")
        } else if command.hasPrefix("vault-cli org status ") {
            expectOut("\(command.words[3]) pending", "org status")
        } else if command.hasPrefix("vault-cli review") {
            #expect(r.prompts == [.passphrase, .reviewChoice, .approveConfirmation], "review: \(r.prompts)")
            let request = try #require(state.request)
            // The screen shows who asks (claimed name, fingerprint, NEW), what and why.
            for shown in [request.options("--name")[0], state.orgFingerprint ?? "?", request.options("--stream")[0],
                          request.options("--purpose")[0], "NEW"] {
                #expect(out.contains(shown), "the review screen shows \(shown)\n\(out)")
            }
            expectOut("granted \(request.options("--id")[0])", "review")
        } else if command.hasPrefix("vault-cli grants") {
            let request = try #require(state.request)
            expectOut("GRANT         \(request.options("--id")[0])\n", state.fetched ? "grants after fetch" : "grants")
            expectOut("STATUS        live", state.fetched ? "grants after fetch" : "grants")
            // --expires 90d: until 90 days from when the request was made.
            if let days = request.options("--expires").first.flatMap({ $0.hasSuffix("d") ? Int64($0.dropLast()) : nil }),
               let expires = out.firstLine(after: "EXPIRES").flatMap(Timestamp.parseFlexible) {
                #expect(abs(expires - (Timestamp.now() + days * 86_400_000)) < 3_600_000, "\(out)")
            } else {
                Issue.record("grants shows when the grant expires: \(out)")
            }
            let released = state.fetched ? samples.covered(by: request).count : 0
            expectOut("RELEASED      \(released) readings", state.fetched ? "grants after fetch" : "grants")
        } else if command.hasPrefix("vault-cli trust list") {
            expectOut(state.orgFingerprint ?? "?", "trust list")
        } else if command.hasPrefix("vault-cli org fetch ") {
            let request = try #require(state.request)
            let want = samples.ndjson(samples.covered(by: request))
            expectOut("verified grant \(command.words[3]); fetched \(want.count) new readings", "org fetch")
            let written = try String(contentsOfFile: walk.expand(command.options("-o")[0]), encoding: .utf8)
            #expect(Set(written.split(separator: "\n").map(String.init)) == want, "exactly what was granted:\n\(written)")
            state.fetched = true
        } else if command.hasPrefix("curl ") && command.contains("/v1/log/checkpoint") {
            let lines = out.split(separator: "\n").map(String.init)
            let origin = try #require(state.origin)
            let at = try #require(lines.firstIndex(of: origin), "the checkpoint names the vault: \(out)")
            let size = Int(lines[at + 1]) ?? 0
            #expect(size >= 8, "the log holds the grant and the releases: \(out)")
            state.checked.insert("checkpoint")
        } else if command.hasPrefix("curl ") && command.contains("/v1/log/proof/consistency") {
            expectOut("\"hashes\":[", "consistency")
        } else if command.hasPrefix("curl ") && command.contains("/v1/openapi.yaml") {
            let file = try #require(command.options("-o").first.map(walk.expand))
            #expect(try String(contentsOfFile: file, encoding: .utf8).hasPrefix("openapi: "))
            state.checked.insert("openapi")
        } else if command.hasPrefix("vault-cli log show") {
            for type in ["vault.genesis", "request.received", "grant.issued", "data.released"] { expectOut(type, "log show") }
        } else if command.hasPrefix("vault-cli log verify") {
            expectOut("log verified: ", "log verify")
            expectOut("all signed by \(state.origin ?? "?")", "log verify")
        } else if command.hasPrefix("vault-cli log key") {
            expectOut((state.verifierKey ?? "?") + "\n", "log key")
        } else if command.hasPrefix("vault-cli backup ") {
            let file = walk.expand(command.options("-o")[0])
            expectOut("written to \(file)", "backup")
            #expect(FileManager.default.fileExists(atPath: file))
        } else if command.hasPrefix("vault-cli restore ") {
            #expect(r.prompts == [.passphrase], "\(r.prompts)")
            let dir = walk.expand(command.options("--data-dir")[0])
            expectOut("into \(dir)", "restore")
            #expect(FileManager.default.fileExists(atPath: dir + "/vault.db"))
        } else if command.hasPrefix("vault-cli stream retention ") {
            // Signed by the person; a confirmation only when readings would go at once (the
            // samples are from November 2026: from late February 2027 on, they would).
            #expect(r.prompts == [.passphrase] || r.prompts == [.retentionConfirmation, .passphrase], "\(r.prompts)")
            expectOut("\(command.words[3]): data kept \(command.words[4]) after each bucket ends", "retention")
        } else if command.hasPrefix("vault-cli revoke ") {
            expectOut("revoked \(command.words[2])", "revoke")
        } else if command.hasPrefix("kill %") {
            let log = try #require(state.vaultdLog)
            #expect(await walk.waitForFile(log, toContain: "msg=\"vaultd stopped\" reason=signal state=clean"), "vaultd stopped cleanly")
            state.checked.insert("stop")
        }
    }
}

// MARK: - The README

/// README.md, its sections and their commands.
struct Readme {
    static let person = "## Walkthrough: as the person"
    static let organization = "## Walkthrough: as an organization"
    static let usage = "## Usage rights: a program instead of a copy"
    /// The public listener every walkthrough command uses (the test replaces its port).
    static let address = "127.0.0.1:8080"
    /// The one line the test does not run.
    static let buildLine = "scripts/build-release"

    let text: String

    static func load() throws -> Readme {
        Readme(text: try String(contentsOf: repositoryRoot.appendingPathComponent("README.md"), encoding: .utf8))
    }

    /// The commands of each untagged code block of the section under `heading`: comment and
    /// blank lines left out, a line ending in `\` joined (with its newline) to the next.
    func blocks(_ heading: String) throws -> [[String]] {
        let lines = text.components(separatedBy: "\n")
        guard let start = lines.firstIndex(of: heading) else { throw HarnessError("README.md has no \(heading)") }
        enum Place { case prose, block, taggedBlock }
        var place = Place.prose
        var blocks: [[String]] = []
        var pending: String?
        for line in lines[(start + 1)...] {
            switch place {
            case .prose:
                if line.hasPrefix("## ") { return blocks }
                if line == "```" {
                    place = .block
                    blocks.append([])
                } else if line.hasPrefix("```") {
                    place = .taggedBlock  // toml and the like: shown, not typed
                }
            case .taggedBlock:
                if line == "```" { place = .prose }
            case .block:
                if line == "```" {
                    if let p = pending { throw HarnessError("README.md: a block ends in a continued line: \(p)") }
                    place = .prose
                    continue
                }
                if let p = pending {
                    let joined = p + "\n" + line
                    pending = line.hasSuffix("\\") ? joined : nil
                    if pending == nil { blocks[blocks.count - 1].append(joined) }
                    continue
                }
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
                if line.hasSuffix("\\") { pending = line } else { blocks[blocks.count - 1].append(line) }
            }
        }
        return blocks
    }
}

extension String {
    /// Shell words (quotes removed; no escapes inside them, which the README does not use);
    /// a trailing `# comment` is left out.
    var words: [String] {
        var words: [String] = []
        var word = ""
        var inWord = false
        var quote: Character?
        for ch in self {
            if let q = quote {
                if ch == q { quote = nil } else { word.append(ch) }
            } else if ch == "'" || ch == "\"" {
                quote = ch
                inWord = true
            } else if ch == " " || ch == "\n" || ch == "\\" {
                if inWord { words.append(word) }
                word = ""
                inWord = false
            } else if ch == "#" && !inWord {
                break
            } else {
                word.append(ch)
                inWord = true
            }
        }
        if inWord { words.append(word) }
        return words
    }

    /// The values given to `name` in this command line.
    func options(_ name: String) -> [String] {
        let w = words
        return w.indices.dropLast().filter { w[$0] == name }.map { w[$0 + 1] }
    }

    /// Where `>` or `>>` sends the standard output of this command line.
    var redirectTarget: String? {
        let w = words
        guard let i = w.firstIndex(where: { $0 == ">" || $0 == ">>" }), i + 1 < w.count else { return nil }
        return w[i + 1]
    }

    /// The rest of the first line that starts with `label` (spaces trimmed).
    func firstLine(after label: String) -> String? {
        for line in split(separator: "\n") {
            let t = line.trimmingCharacters(in: .whitespaces)
            if t.hasPrefix(label) {
                return String(t.dropFirst(label.count)).trimmingCharacters(in: .whitespaces).components(separatedBy: " ").first
            }
        }
        return nil
    }
}

/// docs/examples/readings.csv, the sample the organization's request is about.
struct SampleReadings {
    struct Reading: CustomStringConvertible {
        var stream: String
        var time: String
        var t: Int64
        var value: String
        var description: String { "\(stream),\(time),\(value)" }
    }

    var readings: [Reading]

    static func load() throws -> SampleReadings {
        let text = try String(contentsOf: repositoryRoot.appendingPathComponent("docs/examples/readings.csv"), encoding: .utf8)
        var lines = text.split(separator: "\n").map(String.init)
        guard lines.first == "stream,t,v" else { throw HarnessError("docs/examples/readings.csv starts with stream,t,v") }
        lines.removeFirst()
        return SampleReadings(readings: try lines.map { line in
            let f = line.split(separator: ",").map(String.init)
            guard f.count == 3, let t = Timestamp.parseFlexible(f[1]) else { throw HarnessError("docs/examples/readings.csv: \(line)") }
            return Reading(stream: f[0], time: f[1], t: t, value: f[2])
        })
    }

    /// The sample readings an `org request` command line asks for.
    func covered(by request: String) -> [Reading] {
        let streams = Set(request.options("--stream"))
        guard let from = request.options("--from").first.flatMap(Timestamp.parseFlexible),
              let to = request.options("--to").first.flatMap(Timestamp.parseFlexible) else { return [] }
        return readings.filter { streams.contains($0.stream) && $0.t >= from && $0.t < to }
    }

    /// The NDJSON lines export and fetch write for `readings`.
    func ndjson(_ readings: [Reading]) -> Set<String> {
        Set(readings.map { "{\"stream\":\"\($0.stream)\",\"t\":\($0.t),\"v\":\($0.value)}" })
    }
}

// MARK: - The terminal

private struct WalkState {
    static let required: Set<String> = [
        "init", "vaultd", "stream add", "ingest stdin", "ingest file", "ingest skip", "ingest seconds", "status", "export", "export all",
        "org keygen", "org request", "org status", "review", "grants", "trust list", "org fetch", "grants after fetch", "checkpoint",
        "consistency", "openapi", "log show", "log verify", "log key", "backup", "restore", "retention", "revoke", "stop",
        "module push", "compute request", "approve compute", "modules", "org results", "result output", "log show compute",
    ]
    var checked: Set<String> = []
    var origin: String?
    var verifierKey: String?
    var orgFingerprint: String?
    var request: String?
    var fetched = false
    var vaultdLog: String?
}

enum Prompt: Equatable, CustomStringConvertible {
    case newPassphrase, repeatPassphrase, passphrase, reviewChoice, approveConfirmation, retentionConfirmation, releaseChoice, nextPage

    var description: String { "\(self)" }
}

struct ShellResult {
    var status: Int32
    /// What the terminal showed from the typed line to the next prompt (escape sequences and
    /// carriage returns removed).
    var output: String
    var prompts: [Prompt]
}

/// A temporary `$HOME`, a stand-in checkout and a free port for one walk.
final class Walk: @unchecked Sendable {
    static let passphrase = "a walk through the README"
    let root: String
    let home: String
    let checkout: String
    let port: Int
    var shellPid: pid_t = 0

    init() throws {
        let root = FileManager.default.temporaryDirectory.path + "/ev-readme-" + UUID().uuidString.prefix(8).lowercased()
        (self.root, home, checkout) = (root, root + "/home", root + "/checkout")
        port = try freePort()
        let fm = FileManager.default
        try fm.createDirectory(atPath: home, withIntermediateDirectories: true)
        try fm.createDirectory(atPath: checkout + "/.build", withIntermediateDirectories: true)
        for entry in try fm.contentsOfDirectory(atPath: repositoryRoot.path) where entry != ".build" {
            try fm.createSymbolicLink(atPath: checkout + "/" + entry, withDestinationPath: repositoryRoot.path + "/" + entry)
        }
        // The build under test stands in for both the release build and the demo's debug build.
        for config in ["release", "debug"] {
            try fm.createSymbolicLink(atPath: checkout + "/.build/" + config, withDestinationPath: Binaries.directory)
        }
        chmod(root, 0o755)
        // The shell runs as nobody when the test runs as root: this HOME is nobody's.
        if getuid() == 0 { chown(home, 65534, 65534) }
        chmod(home, 0o700)
    }

    /// `~/…` and `$HOME/…` in a README path, for this walk's home.
    func expand(_ path: String) -> String {
        if path.hasPrefix("~/") { return home + path.dropFirst(1) }
        if path.hasPrefix("$HOME/") { return home + path.dropFirst(5) }
        return path
    }

    /// Starts an interactive bash on a pseudo-terminal, in its own session with the terminal
    /// as its controlling terminal (so job control, `&` and `kill %…` work as in a terminal
    /// window), with the environment of a fresh login: HOME, USER, PATH, TERM, LANG.
    func startShell() async throws -> Shell {
        let rc = root + "/bashrc"
        // The prompt carries the exit status of the last line (and nothing runs before it);
        // nothing else is set up.
        try Data("PS1='\\n[[ev-rc=$?]] '\nPS2=''\nunset PROMPT_COMMAND\ncd \(checkout)\n".utf8).write(to: URL(fileURLWithPath: rc))
        chmod(rc, 0o644)
        let bin = try Binaries.path("vault-cli")
        var prefix: [String] = []
        if getuid() == 0 {
            // The first hour as a normal user: nobody, who owns this HOME and nothing else.
            try #require(await run("/usr/bin/setpriv", ["--reuid=65534", "--regid=65534", "--clear-groups", bin, "--version"]).status == 0,
                         "nobody can run \(bin) (the build directory must be readable by others)")
            prefix = ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        }
        let user = getuid() == 0 ? "nobody" : (ProcessInfo.processInfo.environment["USER"] ?? "user")
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin"
        let argv = prefix + ["/usr/bin/env", "-i", "HOME=\(home)", "USER=\(user)", "LOGNAME=\(user)", "PATH=\(path)", "TERM=xterm",
                             "LANG=C.UTF-8", "SHELL=/bin/bash", "/usr/bin/setsid", "--ctty", "/bin/bash", "--rcfile", rc, "-i"]
        let session = try PTYSession(argv[0], Array(argv.dropFirst()), environment: [:])
        shellPid = session.pid
        let shell = Shell(session: session)
        guard await session.expect("[[ev-rc=0]] ", timeout: .seconds(30)) else {
            throw HarnessError("bash did not start:\n\(session.output.text)")
        }
        shell.consumed = session.output.bytes.count
        return shell
    }

    /// Waits (at most `timeout`) until the file at `path` contains `text`.
    /// Waits until `path` holds `text` more than `times` times (a log appended to by a second
    /// start already holds the first start's line).
    func waitForFile(_ path: String, toContain text: String, moreThan times: Int = 0, timeout: Duration = .seconds(60)) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let content = try? String(contentsOfFile: path, encoding: .utf8), content.components(separatedBy: text).count - 1 > times { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    /// Ends whatever is left of the shell's session (vaultd, when a step failed before
    /// `kill %vaultd`) and removes the walk's files.
    func cleanUp() {
        if shellPid > 0 {
            for pid in Walk.processes(inSession: shellPid) { kill(pid, SIGKILL) }
        }
        try? FileManager.default.removeItem(atPath: root)
    }

    static func processes(inSession sid: pid_t) -> [pid_t] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc") else { return [] }
        return entries.compactMap { name -> pid_t? in
            guard let pid = pid_t(name), let stat = try? String(contentsOfFile: "/proc/\(name)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return nil }
            // After "pid (comm) ": state ppid pgrp session …
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 3 && pid_t(fields[3]) == sid ? pid : nil
        }
    }
}

/// An interactive bash on a terminal, typed into line by line.
final class Shell: @unchecked Sendable {
    let session: PTYSession
    /// Bytes of output already attributed to a line.
    var consumed = 0

    init(session: PTYSession) { self.session = session }

    /// Types `line` (continuation lines as typed, each ended by Enter) and answers the prompts
    /// that appear as the person of the walkthrough would: the passphrase, `a` to approve the
    /// one request on the review screen, `yes` to confirm. Returns at the shell's next prompt
    /// (at most `timeout`), with the line's exit status.
    func run(_ line: String, timeout: Duration = .seconds(180)) async throws -> ShellResult {
        session.type(line.replacingOccurrences(of: "\n", with: "\r") + "\r")
        let start = consumed
        var handled = start
        var prompts: [Prompt] = []
        let deadline = ContinuousClock.now + timeout
        let answers: [(String, Prompt, String)] = [
            ("New passphrase: ", .newPassphrase, Walk.passphrase),
            ("Repeat passphrase: ", .repeatPassphrase, Walk.passphrase),
            ("Passphrase for ", .passphrase, Walk.passphrase),
            ("[q]uit › ", .reviewChoice, "a"),
            ("Type yes to approve, anything else to go back › ", .approveConfirmation, "yes"),
            ("Type yes to go on › ", .retentionConfirmation, "yes"),
            ("[r]elease  [w]ithhold › ", .releaseChoice, "r"),
            ("Enter for the next page, s to skip to the end › ", .nextPage, ""),
        ]
        while ContinuousClock.now < deadline {
            let bytes = session.output.bytes
            let fresh = Shell.clean(String(decoding: bytes[handled...], as: UTF8.self))
            if let done = fresh.firstMatch(of: #/\n\[\[ev-rc=([0-9]+)\]\] $/#) {
                consumed = bytes.count
                let all = Shell.clean(String(decoding: bytes[start...], as: UTF8.self))
                let output = all.range(of: "\n[[ev-rc=", options: .backwards).map { String(all[..<$0.lowerBound]) } ?? all
                return ShellResult(status: Int32(done.output.1) ?? -1, output: output, prompts: prompts)
            }
            // The first prompt shown since the last answer, once the program waits at it.
            let found = answers.compactMap { a -> (String.Index, (String, Prompt, String))? in
                fresh.range(of: a.0).map { ($0.lowerBound, a) }
            }.min { $0.0 < $1.0 }
            if case let (at, (text, prompt, answer))? = found, prompt != .passphrase || fresh[at...].dropFirst(text.count).contains(": ") {
                prompts.append(prompt)
                handled = bytes.count
                session.type(answer + "\r")
                continue
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw HarnessError("no shell prompt within \(timeout) after: \(line)\n\(Shell.clean(String(decoding: session.output.bytes[start...], as: UTF8.self)))")
    }

    /// Terminal output as text: CSI/OSC escape sequences and carriage returns removed.
    static func clean(_ text: String) -> String {
        text.replacing(#/\x1B\[[0-9;?]*[ -\/]*[@-~]|\x1B\][^\x07\x1B]*(?:\x07|\x1B\\)|\x1B[()][0-9A-Za-z]|\x1B[=>]/#, with: "")
            .replacingOccurrences(of: "\r", with: "")
    }
}
