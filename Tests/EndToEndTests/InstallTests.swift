import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

private let repo = repositoryRoot

@Suite("deploy/install.sh", .serialized)
struct InstallTests {
    @Test("install.sh installs into a root, the installed binaries start with the installed config, and --uninstall removes them (keeping data unless --purge)")
    func installAndUninstall() async throws {
        let v = try VaultFixture()
        let root = v.root + "/root"
        let script = repo.appendingPathComponent("deploy/install.sh").path
        let install = try await run("/bin/bash", [script, "--root", root, "--binaries", Binaries.directory])
        #expect(install.status == 0, "\(install.stdout)\(install.stderr)")
        for path in ["/usr/local/bin/vaultd", "/usr/local/bin/vault-cli", "/usr/local/bin/edgevault-sandbox", "/etc/edgevault/vaultd.toml", "/etc/systemd/system/vaultd.service",
                     "/etc/sysusers.d/edgevault.conf", "/etc/tmpfiles.d/edgevault.conf", "/var/lib/edgevault"] {
            #expect(FileManager.default.fileExists(atPath: root + path), "\(path)")
        }
        // Idempotent: a second run keeps the (edited) config.
        try ("# edited\n" + (try String(contentsOfFile: root + "/etc/edgevault/vaultd.toml", encoding: .utf8)))
            .write(toFile: root + "/etc/edgevault/vaultd.toml", atomically: true, encoding: .utf8)
        #expect(try await run("/bin/bash", [script, "--root", root, "--binaries", Binaries.directory]).status == 0)
        #expect(try String(contentsOfFile: root + "/etc/edgevault/vaultd.toml", encoding: .utf8).hasPrefix("# edited"))

        // The installed binaries, with the installed config (paths moved into the test's root).
        let config = try String(contentsOfFile: root + "/etc/edgevault/vaultd.toml", encoding: .utf8)
            .replacingOccurrences(of: "\"/var/lib/edgevault\"", with: "\"\(root)/var/lib/edgevault/vault\"")
            .replacingOccurrences(of: "\"/run/edgevault/admin.sock\"", with: "\"\(root)/run/admin.sock\"")
            .replacingOccurrences(of: "listen = \"127.0.0.1:8080\"", with: "listen = \"127.0.0.1:0\"")
        try config.write(toFile: root + "/etc/edgevault/vaultd.toml", atomically: true, encoding: .utf8)
        let env = v.cliEnvironment.merging(["EDGEVAULT_CONFIG": root + "/etc/edgevault/vaultd.toml"]) { $1 }
        let initr = try await run(root + "/usr/local/bin/vault-cli", ["init", "--kdf", "interactive", "--passphrase-file", v.passphraseFile],
                                  environment: env)
        #expect(initr.status == 0, "\(initr.stderr)")
        let daemon = Process()
        daemon.executableURL = URL(fileURLWithPath: root + "/usr/local/bin/vaultd")
        daemon.arguments = ["--config", root + "/etc/edgevault/vaultd.toml"]
        let out = Pipe()
        daemon.standardError = out
        daemon.standardOutput = out
        let log = OutputCollector(fileHandle: out.fileHandleForReading)
        try daemon.run()
        #expect(await log.wait(for: "vaultd ready", timeout: .seconds(60)), "\(log.text)")
        let status = try await run(root + "/usr/local/bin/vault-cli", ["status"], environment: env)
        #expect(status.status == 0, "\(status.stderr)")
        daemon.terminate()
        daemon.waitUntilExit()

        let uninstall = try await run("/bin/bash", [script, "--root", root, "--uninstall"])
        #expect(uninstall.status == 0 && uninstall.stdout.contains("data stays"))
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/local/bin/vaultd"))
        #expect(!FileManager.default.fileExists(atPath: root + "/usr/local/bin/edgevault-sandbox"))
        #expect(!FileManager.default.fileExists(atPath: root + "/etc/systemd/system/vaultd.service"))
        #expect(FileManager.default.fileExists(atPath: root + "/var/lib/edgevault/vault/vault.db"))
        #expect(try await run("/bin/bash", [script, "--root", root, "--uninstall", "--purge"]).status == 0)
        #expect(!FileManager.default.fileExists(atPath: root + "/var/lib/edgevault"))
    }
}
