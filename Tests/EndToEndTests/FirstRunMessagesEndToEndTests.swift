import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("End to end: the first run's failures say what to do", .serialized)
struct FirstRunMessagesEndToEndTests {
    @Test("vaultd that cannot create its admin socket names the path and the setting that moves it, in one line")
    func adminSocketPath() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        // /proc refuses new directories to everyone, root included.
        let socket = "/proc/edgevault-no-such-dir/admin.sock"
        let r = try await run(try Binaries.path("vaultd"), ["--data-dir", v.dataDir, "--admin-socket", socket, "--config", "/dev/null",
                                                            "--listen", "127.0.0.1:0"], timeout: .seconds(60))
        #expect(r.status != 0)
        let lines = (r.stderr + r.stdout).split(separator: "\n").filter { $0.contains("admin socket") }
        #expect(lines.count == 1 && lines[0].contains(socket) && lines[0].contains("--admin-socket") && lines[0].contains("admin_socket"),
                "\(r.stderr)\(r.stdout)")
        #expect(!r.stderr.contains("stat(pathname"), "no bare system-call error")
    }

    @Test("An organization's call to a vault that is not listening says connection refused and what to check, in one line")
    func connectionRefused() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let port = v.publicPort
        try await v.stopDaemon()
        try OrgKeys.generate().write(to: v.root + "/o.key", deliverySeed: SecureBytes.random(count: 32))
        let r = try await v.cli(["org", "status", "any-id", "--vault", "http://127.0.0.1:\(port)", "--key", v.root + "/o.key"])
        #expect(r.status == 1)
        #expect(r.stderr == "vault-cli: cannot reach the vault at 127.0.0.1:\(port) (connection refused): is vaultd running with --listen on that address?\n",
                "\(r.stderr)")
    }

    @Test("org fetch before the person decided says the request is pending; after a denial it gives the person's reason; nothing is fetched")
    func fetchBeforeDecision() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try OrgKeys.generate().write(to: v.root + "/o.key", deliverySeed: SecureBytes.random(count: 32))
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: try OrgKeys.read(from: v.root + "/o.key"))
        let request = AccessRequest(vault: try await o.origin(), id: "early", orgName: "Acme", orgContact: "", streams: ["home/temp"],
                                    from: 0, to: 3_600_000, purpose: "p", deliveryKey: o.keys.delivery.publicKey,
                                    expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
        #expect(try await o.submit(request).status == "pending")
        let fetch = ["org", "fetch", "early", "--vault", "http://127.0.0.1:\(v.publicPort)", "--key", v.root + "/o.key", "--out", v.root + "/out.ndjson"]
        let pending = try await v.cli(fetch)
        #expect(pending.status == 1 && pending.stderr.contains("request early is still pending"), "\(pending.stderr)")
        #expect(try await v.cli(["deny", "early", "--reason", "not this year", "--passphrase-file", v.passphraseFile]).status == 0)
        let denied = try await v.cli(fetch)
        #expect(denied.status == 1 && denied.stderr.contains("was denied by the person: not this year"), "\(denied.stderr)")
        #expect(!FileManager.default.fileExists(atPath: v.root + "/out.ndjson"))
        try await v.stopDaemon()
    }

    @Test("Global options work before the subcommand too, and a mistyped subcommand gets a suggestion in one line")
    func argumentOrder() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let cli = try Binaries.path("vault-cli")
        let before = try await run(cli, v.globalArgs + ["status"], environment: v.cliEnvironment)
        #expect(before.status == 0 && before.stdout.contains("vaultd"), "\(before.stderr)")
        let split = try await run(cli, ["--admin-socket", v.socket, "log", "verify", "--state", v.root + "/state.json", "--data-dir", v.dataDir],
                                  environment: v.cliEnvironment)
        #expect(split.status == 0 && split.stdout.contains("log verified"), "\(split.stderr)")
        let typo = try await run(cli, ["stauts"] + v.globalArgs, environment: v.cliEnvironment)
        #expect(typo.status == 1 && typo.stderr == "vault-cli: no command stauts; did you mean status? (vault-cli --help lists them)\n", "\(typo.stderr)")
        // One spelling for one meaning: -o/--output wherever a command writes a file (--out still works).
        #expect(try await v.cli(["backup", "-o", v.root + "/a.backup"]).status == 0)
        #expect(try await v.cli(["org", "keygen", "--output", v.root + "/o.key"]).status == 0)
        #expect(FileManager.default.fileExists(atPath: v.root + "/a.backup") && FileManager.default.fileExists(atPath: v.root + "/o.key"))
        let unknown = try await run(cli, ["frobnicate"], environment: v.cliEnvironment)
        #expect(unknown.status != 0 && !unknown.stderr.contains("did you mean"))
        try await v.stopDaemon()
    }

    @Test("Organizations can be named by the fingerprint every screen shows (any case, dashes optional) as well as by key id")
    func fingerprints() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        let request = AccessRequest(vault: try await o.origin(), id: "fp-1", orgName: "Acme", orgContact: "", streams: ["home/temp"],
                                    from: 0, to: 3_600_000, purpose: "p", deliveryKey: o.keys.delivery.publicKey,
                                    expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
        #expect(try await o.submit(request).status == "pending")
        let fingerprint = Fingerprint.of(thumbprint: o.keys.keyId)!
        let sloppy = fingerprint.lowercased().replacingOccurrences(of: "-", with: "")
        let show = try await v.cli(["trust", "show", sloppy])
        #expect(show.status == 0 && show.stdout.contains(fingerprint), "\(show.stderr)")
        let unknown = try await v.cli(["trust", "show", "AAAA-BBBB-CCCC-DDDD"])
        #expect(unknown.status == 1 && unknown.stderr == "vault-cli: no organization with fingerprint AAAA-BBBB-CCCC-DDDD is known to this vault\n")
        let junk = try await v.cli(["trust", "show", "not-a-key"])
        #expect(junk.status != 0 && junk.stderr.contains("not a key id or fingerprint"))
        let block = try await v.cli(["trust", "block", "--passphrase-file", v.passphraseFile, fingerprint])
        #expect(block.status == 0 && block.stdout.contains("blocked \(fingerprint)") && block.stdout.contains("1 pending request(s) denied"), "\(block.stdout)\(block.stderr)")
        let log = v.daemonLog!
        #expect(try await v.stopDaemon() == 0)
        #expect(await log.wait(for: "msg=\"vaultd stopped\"", timeout: .seconds(10)), "one line when it stops cleanly")
    }

    @Test("Argument errors show what was typed escaped; log show shows the newest entries and says how many older ones it left out")
    func argumentsEscapedAndNewestLog() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let hostile = try await v.cli(["trust", "block", "y\u{1B}[2J\u{1B}]0;owned\u{07}"])
        #expect(hostile.status != 0 && hostile.stderr.contains("not a key id or fingerprint"), "\(hostile.stderr)")
        #expect(!hostile.stderr.utf8.contains(0x1B) && !hostile.stderr.utf8.contains(0x07), "\(hostile.stderr)")
        #expect(hostile.stderr.contains("\\u{1B}[2J"))

        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        let origin = try await o.origin()
        for i in 0..<3 {
            _ = try await o.submit(AccessRequest(vault: origin, id: "r\(i)", orgName: "Acme", orgContact: "", streams: ["home/temp"], from: 0,
                                                 to: 3_600_000, purpose: "p", deliveryKey: o.keys.delivery.publicKey,
                                                 expires: Timestamp.now() + 86_400_000, created: Timestamp.now()))
        }
        let size = try await treeSize(v)
        let newest = try await v.cli(["log", "show", "--limit", "2"])
        let lines = newest.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 3, "\(newest.stdout)")
        #expect(lines[0].hasPrefix("#\(size - 2)") && lines[1].hasPrefix("#\(size - 1)"), "\(newest.stdout)")
        #expect(lines[2] == "\(size - 2) older entries not shown (--from-index 0 shows from the first)")
        let oldest = try await v.cli(["log", "show", "--from-index", "0", "--limit", "1"])
        #expect(oldest.stdout.hasPrefix("#0") && oldest.stdout.contains("vault.genesis"), "\(oldest.stdout)")
        try await v.stopDaemon()
    }

    @Test("Unix seconds where milliseconds belong are refused with a line that says so, in the CLI and the admin API; --time-unit s reads them, --allow-old takes a real back-fill; a time a day ahead is refused")
    func readingTimes() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let seconds: Int64 = 1_795_600_000  // 2026-11-24 in seconds
        let line = "{\"stream\":\"home/x\",\"t\":\(seconds),\"v\":2}\n"
        let refused = try await v.cli(["ingest"], stdin: Array(line.utf8))
        #expect(refused.status == 1 && refused.stderr.contains("line 1") && refused.stderr.contains("looks like Unix seconds"), "\(refused.stderr)")
        #expect(refused.stderr.split(separator: "\n").count == 1)
        let direct = try await v.request("POST", "/v1/ingest", body: Array(line.utf8))
        #expect(direct.status == 400 && String(decoding: direct.body, as: UTF8.self).contains("looks like Unix seconds"))
        let csv = try await v.cli(["ingest", "--format", "csv"], stdin: Array("stream,t,v\nhome/x,\(seconds),2\n".utf8))
        #expect(csv.status == 1 && csv.stderr.contains("line 2"), "\(csv.stderr)")

        let converted = try await v.cli(["ingest", "--time-unit", "s"], stdin: Array(line.utf8))
        #expect(converted.status == 0, "\(converted.stderr)")
        let backfill = try await v.cli(["ingest", "--allow-old"], stdin: Array("{\"stream\":\"home/old\",\"t\":86400000,\"v\":1}\n".utf8))
        #expect(backfill.status == 0, "\(backfill.stderr)")
        let ahead = Timestamp.now() + 3 * 86_400_000
        let future = try await v.cli(["ingest"], stdin: Array("{\"stream\":\"home/x\",\"t\":\(ahead),\"v\":3}\n".utf8))
        #expect(future.status == 1 && future.stderr.contains("more than a day ahead"), "\(future.stderr)")

        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(export.stdout.contains("{\"stream\":\"home/x\",\"t\":\(seconds * 1000),\"v\":2}"), "\(export.stdout)")
        #expect(export.stdout.contains("{\"stream\":\"home/old\",\"t\":86400000,\"v\":1}"))
        #expect(export.stdout.split(separator: "\n").count == 2, "nothing refused was stored")
        try await v.stopDaemon()
    }

    @Test("status, grants, trust list and stream list fit 80 columns; a table too wide is printed one record at a time, nothing cut")
    func eightyColumns() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestTwoStreams(v)
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        _ = try await o.submit(AccessRequest(vault: try await o.origin(), id: "wide-grant-with-a-long-id", orgName: "Acme Health Study",
                                             orgContact: "", streams: ["home/temp", "home/door"], from: sampleBase, to: sampleBase + 3_600_000,
                                             purpose: "p", deliveryKey: o.keys.delivery.publicKey, expires: Timestamp.now() + 86_400_000,
                                             created: Timestamp.now()))
        #expect(try await v.cli(["approve", "wide-grant-with-a-long-id", "--passphrase-file", v.passphraseFile]).status == 0)
        for args in [["status"], ["grants"], ["trust", "list"], ["stream", "list"]] {
            let r = try await v.cli(args)
            #expect(r.status == 0, "\(args): \(r.stderr)")
            for line in r.stdout.split(separator: "\n") { #expect(line.count <= 80, "\(args): \(line)") }
        }
        let trust = try await v.cli(["trust", "list"])
        #expect(trust.stdout.contains(o.keys.keyId), "the key id is whole: \(trust.stdout)")
        try await v.stopDaemon()
    }

    @Test("init's Next: lines give the vaultd command with the data directory and admin socket it needs, and the export that points vault-cli at that socket (and at a key file not in its default place), each path one shell word")
    func initNextSteps() async throws {
        let v = try VaultFixture()
        let r = try await v.cli(["init", "--kdf", "interactive", "--passphrase-file", v.passphraseFile])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("\nNext: start the daemon with this data directory and admin socket"), "\(r.stdout)")
        #expect(r.stdout.contains("\n  vaultd --data-dir \(v.dataDir) --admin-socket \(v.socket)\n"), "\(r.stdout)")
        #expect(r.stdout.hasSuffix("\n  export EDGEVAULT_ADMIN_SOCKET=\(v.socket)\n  vault-cli status\n"), "\(r.stdout)")
        #expect(!r.stdout.contains("EDGEVAULT_USER_KEY"), "the key file is where vault-cli looks by default")
        #expect(!r.stdout.contains("you cannot create files"))
        let next = r.stdout[r.stdout.range(of: "Next:")!.lowerBound...]
        for line in next.split(separator: "\n") where !line.contains(v.root) { #expect(line.count <= 80, "\(line)") }

        // Paths with a space, the key file elsewhere: each path pastes as one word.
        let other = v.root + "/my vault"
        let r2 = try await run(try Binaries.path("vault-cli"), ["init", "--kdf", "interactive", "--passphrase-file", v.passphraseFile,
                                                                "--data-dir", other + "/data", "--admin-socket", other + "/admin.sock",
                                                                "--user-key", other + "/user.key"], environment: v.cliEnvironment)
        #expect(r2.status == 0, "\(r2.stderr)")
        #expect(r2.stdout.contains("\n  vaultd --data-dir '\(other)/data' --admin-socket '\(other)/admin.sock'\n"), "\(r2.stdout)")
        #expect(r2.stdout.contains("\n  export EDGEVAULT_ADMIN_SOCKET='\(other)/admin.sock'\n  export EDGEVAULT_USER_KEY='\(other)/user.key'\n"),
                "\(r2.stdout)")
    }

    @Test("As a normal user, init with the default admin socket says it cannot be created in /run and which socket to pick instead",
          .enabled(if: getuid() != 0 || FileManager.default.isExecutableFile(atPath: "/usr/bin/setpriv"), "needs setpriv to drop to nobody"))
    func initNextStepsNormalUser() async throws {
        let v = try VaultFixture()
        let home = v.root + "/home"
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        let uid: uid_t = getuid() == 0 ? 65534 : getuid()
        chown(home, uid, uid == 65534 ? 65534 : getgid())
        let cli = try Binaries.path("vault-cli")
        let asUser = getuid() == 0 ? ["/usr/bin/setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] : []
        let argv = asUser + ["/usr/bin/env", "-i", "HOME=\(home)", "PATH=/usr/bin:/bin", "EDGEVAULT_CONFIG=/dev/null", cli, "init",
                             "--kdf", "interactive", "--passphrase-file", v.passphraseFile, "--data-dir", home + "/edgevault/data"]
        let r = try await run(argv[0], Array(argv.dropFirst()))
        #expect(r.status == 0, "\(r.stderr)")
        let socket = Configuration().adminSocket
        #expect(r.stdout.contains("\n  vaultd --data-dir \(home)/edgevault/data --admin-socket \(socket)\n"), "\(r.stdout)")
        #expect(r.stdout.contains("\n  (you cannot create files in /run"), "\(r.stdout)")
        #expect(r.stdout.contains("--admin-socket $HOME/edgevault/admin.sock, here and for vault-cli)"), "\(r.stdout)")
    }

    @Test("Every vault-cli command's --help gives a real example", arguments: [
        ["init"], ["status"], ["stream", "add"], ["stream", "list"], ["stream", "retention"], ["ingest"], ["export"], ["review"],
        ["approve"], ["deny"], ["grants"], ["revoke"], ["trust", "list"], ["trust", "show"], ["trust", "add"], ["trust", "block"],
        ["trust", "unblock"], ["log", "show"], ["log", "verify"], ["log", "key"], ["backup"], ["restore"], ["org", "keygen"],
        ["org", "request"], ["org", "status"], ["org", "fetch"], ["org", "withdraw"],
        ["recovery", "split"], ["recovery", "verify"], ["recovery", "recover"], ["recovery", "record"],
    ])
    func helpExamples(_ command: [String]) async throws {
        let r = try await run(try Binaries.path("vault-cli"), command + ["--help"])
        #expect(r.status == 0)
        if command.first == "org" {
            #expect(!r.stdout.contains("--data-dir") && !r.stdout.contains("--user-key"), "the person's options are not listed for an organization's command")
        }
        let example = r.stdout.range(of: "Example")
        #expect(example != nil && r.stdout[example!.upperBound...].contains("vault-cli " + command.joined(separator: " ")), "\(command): \(r.stdout)")
    }
}
