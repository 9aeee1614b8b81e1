import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import NIOHTTP1
import Testing
#if canImport(Glibc)
import Glibc
#endif

@Suite("End to end: process hardening — core dumps, file modes, one daemon per data directory (issue 16, part 8)", .serialized)
struct ProcessHardeningEndToEndTests {
    /// `/proc/PID/limits`' core file size line, as (soft, hard).
    func coreLimits(_ pid: pid_t) throws -> (String, String) {
        let text = try String(contentsOfFile: "/proc/\(pid)/limits", encoding: .utf8)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("Max core file size") })
        let fields = line.dropFirst("Max core file size".count).split(separator: " ")
        return (String(fields[0]), String(fields[1]))
    }

    /// The evidence for "not dumpable" from outside: the kernel gives a non-dumpable process's
    /// /proc/PID files (environ, mem, …) to root, whoever runs it. So the targets run as a user other than
    /// root: as root, the test starts them as nobody (setpriv); otherwise as the test's user.
    static var asRoot: Bool { getuid() == 0 }
    static let setpriv = "/usr/bin/setpriv"
    static let nobody: uid_t = 65534
    static func wrapped(_ executable: String, _ arguments: [String]) -> (String, [String]) {
        asRoot ? (setpriv, ["--reuid=\(nobody)", "--regid=\(nobody)", "--clear-groups", "--", executable] + arguments) : (executable, arguments)
    }

    /// (owner of /proc/PID/environ, the process's real uid).
    func procOwner(_ pid: pid_t) throws -> (owner: uid_t, uid: uid_t) {
        var st = stat()
        guard stat("/proc/\(pid)/environ", &st) == 0 else { throw HarnessError("no /proc/\(pid)/environ") }
        let status = try String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)
        let line = try #require(status.split(separator: "\n").first { $0.hasPrefix("Uid:") })
        let uid = try #require(line.split(whereSeparator: { $0 == "\t" || $0 == " " }).dropFirst().first.flatMap { uid_t($0) })
        return (st.st_uid, uid)
    }

    /// Gives a tree to nobody (as root), so vaultd can run as nobody on it.
    func giveToNobody(_ path: String) throws {
        guard Self.asRoot else { return }
        let paths = [path] + (FileManager.default.enumerator(atPath: path)?.compactMap { $0 as? String }.map { path + "/" + $0 } ?? [])
        for p in paths { lchown(p, Self.nobody, Self.nobody) }
    }

    @Test("vaultd and vault-cli run with RLIMIT_CORE 0 and not dumpable (/proc/PID/environ turns root's, unlike a plain process's)",
          .enabled(if: !ProcessHardeningEndToEndTests.asRoot || FileManager.default.isExecutableFile(atPath: ProcessHardeningEndToEndTests.setpriv)))
    func noCoreDumps() async throws {
        // Children inherit a non-zero core limit (raised to the hard limit, or set by root), so
        // a zero below is the binaries' own doing.
        var limit = rlimit()
        getrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        var original = limit
        defer { setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &original) }
        if limit.rlim_cur == 0 {
            limit.rlim_cur = limit.rlim_max > 0 ? limit.rlim_max : 1 << 20
            limit.rlim_max = max(limit.rlim_max, limit.rlim_cur)
            setrlimit(__rlimit_resource_t(RLIMIT_CORE.rawValue), &limit)
        }
        let v = try VaultFixture()
        try await v.initVault()
        try giveToNobody(v.root)

        // The control: a plain process started the same way keeps its /proc/PID and core limit.
        let (shExe, shArgs) = Self.wrapped("/bin/sh", ["-c", "echo control-ready; read line"])
        let control = try PTYSession(shExe, shArgs, environment: [:])
        #expect(await control.expect("control-ready"), "\(control.output.text)")
        let controlOwner = try procOwner(control.pid)
        #expect(controlOwner.owner == controlOwner.uid && controlOwner.uid != 0, "a dumpable process owns its /proc/PID: \(controlOwner)")
        #expect(try coreLimits(control.pid) != ("0", "0"), "the control inherits a non-zero core limit")
        kill(control.pid, SIGKILL)
        _ = await control.waitForExit()

        let (exe, args) = Self.wrapped(try Binaries.path("vaultd"), ["--data-dir", v.dataDir, "--admin-socket", v.socket, "--config", "/dev/null",
                                                                    "--listen", "127.0.0.1:0"])
        let daemon = try SpawnedProcess(exe, args)
        #expect(await daemon.output.wait(for: "vaultd ready", timeout: .seconds(60)), "\(daemon.output.text)")
        #expect(try coreLimits(daemon.pid) == ("0", "0"))
        let daemonOwner = try procOwner(daemon.pid)
        #expect(daemonOwner.owner == 0 && daemonOwner.uid != 0, "vaultd is not dumpable: \(daemonOwner)")

        // vault-cli, at its passphrase prompt (export asks once the daemon answered).
        let (cliExe, cliArgs) = Self.wrapped(try Binaries.path("vault-cli"), ["export"] + v.globalArgs)
        let cli = try PTYSession(cliExe, cliArgs, environment: v.cliEnvironment)
        #expect(await cli.expect("Passphrase for"), "\(cli.output.text)")
        #expect(try coreLimits(cli.pid) == ("0", "0"))
        let cliOwner = try procOwner(cli.pid)
        #expect(cliOwner.owner == 0 && cliOwner.uid != 0, "vault-cli is not dumpable: \(cliOwner)")
        kill(cli.pid, SIGKILL)
        _ = await cli.waitForExit()
        await daemon.stop()
    }

    @Test("vault.db, its WAL and SHM and every file vaultd creates in the data directory are 0600 with the test's umask 022")
    func fileModes() async throws {
        let old = umask(0o022)
        defer { umask(old) }
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        // Readings (WAL writes), a backup (a temporary copy in the data directory), a checkpoint.
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":\(Timestamp.now()),\"v\":1}\n".utf8)).status == 0)
        #expect(try await v.cli(["backup", "--out", v.root + "/backup.evb"]).status == 0)
        let names = try FileManager.default.contentsOfDirectory(atPath: v.dataDir)
        for required in ["vault.db", "vault.db-wal", "vault.db-shm", "vaultd.lock", "log.key"] {
            #expect(names.contains(required), "\(required) in \(names)")
        }
        for name in names {
            var st = stat()
            #expect(lstat(v.dataDir + "/" + name, &st) == 0)
            guard (st.st_mode & S_IFMT) == S_IFREG else { continue }
            #expect(st.st_mode & 0o777 == 0o600, "\(name) is \(String(st.st_mode & 0o777, radix: 8))")
        }
        try await v.stopDaemon()
    }

    @Test("A second vaultd on the same data directory exits non-zero with one line naming the first's pid and leaves its open segment alone; init and restore refuse too")
    func secondDaemon() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let pid = try #require(v.daemon?.processIdentifier)
        let now = Timestamp.now()
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":\(now),\"v\":1}\n".utf8)).status == 0)
        #expect(try await v.cli(["backup", "--out", v.root + "/backup.evb"]).status == 0)
        func openSegments() throws -> [String] {
            var config = GRDB.Configuration()
            config.readonly = true
            return try DatabaseQueue(path: v.dataDir + "/vault.db", configuration: config).read {
                try String.fetchAll($0, sql: "SELECT id FROM segment WHERE closedAt IS NULL ORDER BY id")
            }
        }
        let open = try openSegments()
        #expect(open.count == 1)

        let second = try await run(try Binaries.path("vaultd"), ["--data-dir", v.dataDir, "--admin-socket", v.root + "/run2/admin.sock",
                                                                   "--config", "/dev/null", "--listen", "127.0.0.1:0"], timeout: .seconds(60))
        #expect(second.status != 0)
        let lines = (second.stderr + second.stdout).split(separator: "\n")
        #expect(lines.count == 1 && lines[0].contains("pid \(pid)") && lines[0].contains(v.dataDir), "\(second.stderr)\(second.stdout)")
        #expect(!FileManager.default.fileExists(atPath: v.root + "/run2/admin.sock"))
        #expect(try openSegments() == open, "the first daemon's open segment is still open")

        // The first daemon carries on: the same segment takes another reading.
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"s\",\"t\":\(now + 1),\"v\":2}\n".utf8)).status == 0)
        #expect(try openSegments() == open)
        let status = try JSONDecoder().decode(AdminAPI.Status.self, from: Data(try await v.cli(["status", "--json"]).stdout.utf8))
        #expect(status.openSegments.count == 1 && status.streams.first?.readings == 2)

        // vault-cli commands that write the data directory's files themselves refuse while it runs.
        let initAgain = try await run(try Binaries.path("vault-cli"), ["init", "--kdf", "interactive", "--passphrase-file", v.passphraseFile,
                                                                       "--data-dir", v.dataDir, "--user-key", v.root + "/other.key"],
                                      environment: v.cliEnvironment)
        #expect(initAgain.status == 1 && isOneLine(initAgain.stderr) && initAgain.stderr.contains("pid \(pid)"), "\(initAgain.stderr)")
        let restore = try await v.cli(["restore", v.root + "/backup.evb", "--passphrase-file", v.passphraseFile])
        #expect(restore.status == 1 && isOneLine(restore.stderr) && restore.stderr.contains("pid \(pid)"), "\(restore.stderr)")
        #expect(!FileManager.default.fileExists(atPath: v.root + "/other.key"))
        try await v.stopDaemon()

        // Once it has stopped, the directory is free again.
        try await v.startDaemon()
        #expect(try await v.publicRequest("GET", "/healthz").status == 200)
        try await v.stopDaemon()
    }
}
