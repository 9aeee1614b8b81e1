import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

private func storedReadings(_ v: VaultFixture) async throws -> Int64 {
    let s = try await v.cli(["status", "--json"])
    return try JSONDecoder().decode(AdminAPI.Status.self, from: Data(s.stdout.utf8)).streams.reduce(0) { $0 + $1.readings }
}


@Suite("End to end: bad input gets a clear message, stores nothing, and the daemon keeps serving", .serialized)
struct BadInputEndToEndTests {
    @Test("Malformed NDJSON, CSV and SenML are rejected with the line, nothing stored")
    func malformedFiles() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let cases: [(String, String, String)] = [
            ("bad.ndjson", "{\"stream\":\"s\",\"t\":1795600000000,\"v\":1}\n{\"stream\":\"s\",\"t\":1795600001000,\"v\":}\n", "line 2"),
            ("bad.csv", "stream,t,v\ns,1,1\ns,2\n", "line 3"),
            ("bad.senml", "[{\"n\":\"s\",\"v\":1},{\"n\":\"s\",\"v\":true}]", "record 2"),
        ]
        for (name, content, location) in cases {
            let path = v.root + "/" + name
            try Data(content.utf8).write(to: URL(fileURLWithPath: path))
            let r = try await v.cli(["ingest", path])
            #expect(r.status == 1, "\(name)")
            #expect(isOneLine(r.stderr), "\(r.stderr)")
            #expect(r.stderr.contains(location) && r.stderr.contains("nothing was stored"), "\(r.stderr)")
        }
        #expect(try await storedReadings(v) == 0)

        // --skip-invalid stores the good lines and reports the bad one (exit 2).
        let r = try await v.cli(["ingest", "--skip-invalid", v.root + "/bad.ndjson"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("skipped") && r.stderr.contains("line 2"))
        #expect(try await storedReadings(v) == 1)
        try await v.stopDaemon()
    }

    @Test("An unknown stream with automatic creation off is refused before anything is stored")
    func unknownStream() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_AUTO_CREATE_STREAMS": "false"])
        #expect(try await v.cli(["stream", "add", "known", "--kind", "temperature", "--unit", "Cel", "--bucket", "600"]).status == 0)
        let input = "{\"stream\":\"known\",\"t\":1795600000000,\"v\":1}\n{\"stream\":\"other\",\"t\":1795600001000,\"v\":2}\n"
        let r = try await v.cli(["ingest"], stdin: Array(input.utf8))
        #expect(r.status == 1)
        #expect(r.stderr.contains("unknown stream \"other\"") && r.stderr.contains("line 2"), "\(r.stderr)")
        #expect(try await storedReadings(v) == 0)
        // The daemon refuses it too when asked directly.
        let direct = try await v.request("POST", "/v1/ingest", body: Array(input.utf8))
        #expect(direct.status == 400)
        #expect(String(decoding: direct.body, as: UTF8.self).contains("urn:edgevault:problem:unknown_stream"))
        #expect(try await storedReadings(v) == 0)
        let list = try await v.cli(["stream", "list"])
        #expect(list.stdout.contains("known") && list.stdout.contains("600s"))
        try await v.stopDaemon()
    }

    @Test("A reading over 64 KiB and an oversized body are refused; the daemon still serves")
    func sizeLimits() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon(environment: ["EDGEVAULT_MAX_INGEST_BODY_BYTES": "200000"])
        let big = String(repeating: "x", count: 70_000)
        let r = try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":1795600000000,\"v\":\"\(big)\"}\n".utf8))
        #expect(r.status == 1)
        #expect(r.stderr.contains("64 KiB"), "\(r.stderr)")

        let direct = try await v.request("POST", "/v1/ingest", body: Array("{\"stream\":\"s\",\"t\":1795600000000,\"v\":\"\(big)\"}\n".utf8))
        #expect(direct.status == 400)
        #expect(direct.header("Content-Type") == "application/problem+json")

        var body = ""
        while body.utf8.count <= 200_000 { body += "{\"stream\":\"s\",\"t\":1795600000000,\"v\":\"\(String(repeating: "y", count: 1000))\"}\n" }
        let tooBig = try await v.request("POST", "/v1/ingest", body: Array(body.utf8))
        #expect(tooBig.status == 413)
        #expect(String(decoding: tooBig.body, as: UTF8.self).contains("urn:edgevault:problem:too_large"))

        let junk = try await v.request("POST", "/v1/ingest", body: Array("{\"stream\":\"s\",\"t\":1795600000000,\"v\":1}\nnope\n".utf8))
        #expect(junk.status == 400)
        let problem = try JSONDecoder().decode(Problem.self, from: Data(junk.body))
        #expect(problem.code == "invalid_reading" && problem.line == 2)

        let missing = try await v.request("GET", "/v1/nothing-here")
        #expect(missing.status == 404)
        #expect(missing.header("Content-Type") == "application/problem+json")
        let badQuery = try await v.request("GET", "/v1/segments?from=yesterday")
        #expect(badQuery.status == 400)

        #expect(try await storedReadings(v) == 0)
        #expect(try await v.request("GET", "/healthz").status == 200)
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":1795600000000,\"v\":1}\n".utf8)).status == 0)
        try await v.stopDaemon()
    }

    @Test("Wrong passphrase, missing key file, daemon not running: one line each, non-zero exit")
    func keyAndDaemonErrors() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try Data("not the passphrase\n".utf8).write(to: URL(fileURLWithPath: v.root + "/wrong"))
        let wrong = try await v.cli(["export", "--passphrase-file", v.root + "/wrong"])
        #expect(wrong.status == 1)
        #expect(isOneLine(wrong.stderr) && wrong.stderr.contains("wrong passphrase"), "\(wrong.stderr)")
        #expect(!wrong.stderr.contains("not the passphrase"))

        try FileManager.default.moveItem(atPath: v.keyFile, toPath: v.keyFile + ".moved")
        let missing = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(missing.status == 1)
        #expect(isOneLine(missing.stderr) && missing.stderr.contains("no key file"), "\(missing.stderr)")
        try FileManager.default.moveItem(atPath: v.keyFile + ".moved", toPath: v.keyFile)

        try await v.stopDaemon()
        for args in [["status"], ["ingest", "--format", "ndjson"], ["export", "--passphrase-file", v.passphraseFile], ["stream", "list"]] {
            let r = try await v.cli(args, stdin: Array("{\"stream\":\"s\",\"t\":1795600000000,\"v\":1}\n".utf8))
            #expect(r.status == 1, "\(args)")
            #expect(isOneLine(r.stderr) && r.stderr.contains("vaultd is not running"), "\(args): \(r.stderr)")
        }
        // Refuses to overwrite an existing vault or key file.
        let again = try await v.cli(["init", "--kdf", "interactive", "--passphrase-file", v.passphraseFile])
        #expect(again.status == 1)
        #expect(again.stderr.contains("refusing to overwrite"))
        // A second daemon on the same data directory and socket is refused while the first
        // runs (by the data directory's lock, before it looks at the socket).
        try await v.startDaemon()
        let second = try await run(try Binaries.path("vaultd"), ["--data-dir", v.dataDir, "--admin-socket", v.socket, "--config", "/dev/null", "--listen", "127.0.0.1:0"],
                                   timeout: .seconds(60))
        #expect(second.status != 0)
        #expect(second.stderr.contains("is in use by vaultd pid \(v.daemon?.processIdentifier ?? -1)"), "\(second.stderr)")
        try await v.stopDaemon()
    }

    @Test("init asks for the passphrase twice on a real terminal, without echo")
    func initOnTerminal() async throws {
        let v = try VaultFixture()
        let session = try PTYSession(try Binaries.path("vault-cli"), ["init", "--kdf", "interactive"] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("New passphrase: "))
        session.type("a secret passphrase\r")
        #expect(await session.expect("Repeat passphrase: "))
        session.type("a secret passphrase\r")
        #expect(await session.expect("Vault created."))
        #expect(await session.waitForExit() == 0)
        #expect(!session.output.text.contains("a secret passphrase"), "the passphrase is never echoed")
        #expect(FileManager.default.fileExists(atPath: v.keyFile))
        let attrs = try FileManager.default.attributesOfItem(atPath: v.keyFile)
        #expect((attrs[.posixPermissions] as! NSNumber).intValue == 0o600)

        // The key unlocks with what was typed.
        try Data("a secret passphrase\n".utf8).write(to: URL(fileURLWithPath: v.passphraseFile))
        try await v.startDaemon()
        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(export.status == 0, "\(export.stderr)")
        try await v.stopDaemon()
    }

    @Test("Two different passphrases at init leave no key file and no vault")
    func initMismatch() async throws {
        let v = try VaultFixture()
        let session = try PTYSession(try Binaries.path("vault-cli"), ["init", "--kdf", "interactive"] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("New passphrase: "))
        session.type("first passphrase\r")
        #expect(await session.expect("Repeat passphrase: "))
        session.type("second passphrase\r")
        #expect(await session.expect("differ"))
        #expect(await session.waitForExit() == 1)
        #expect(!FileManager.default.fileExists(atPath: v.keyFile))
        #expect(!FileManager.default.fileExists(atPath: v.dataDir + "/vault.db"))
    }

    @Test("vault-cli ingest reads a pipe that belongs to another user (cat … | sudo -u person vault-cli ingest)",
          .enabled(if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/runuser"), "needs root to run vault-cli as another user"))
    func stdinOwnedByAnotherUser() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let cli = try Binaries.path("vault-cli")
        try #require(await run("/usr/sbin/runuser", ["-u", "nobody", "--", cli, "--version"]).status == 0,
                     "nobody can run \(cli) (the build directory must be readable by others)")
        // Let nobody reach the admin socket, as group edgevault lets the person on a gateway.
        #expect(chmod(v.root + "/run", 0o755) == 0 && chmod(v.socket, 0o666) == 0)
        // The pipe on stdin is created by this (root) process, mode 0600: opening /dev/stdin
        // as nobody fails with EACCES; reading descriptor 0 works.
        let now = ISO8601DateFormatter().string(from: Date())
        let r = try await run("/usr/sbin/runuser", ["-u", "nobody", "--", cli, "ingest", "--admin-socket", v.socket],
                              stdin: Array("{\"stream\":\"home/temp\",\"t\":\"\(now)\",\"v\":21.5}\n".utf8),
                              environment: ["EDGEVAULT_CONFIG": "/dev/null", "HOME": "/nonexistent"])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("stored 1 reading in 1 stream"), "\(r.stdout)")
        #expect(try await storedReadings(v) == 1)
    }
}
