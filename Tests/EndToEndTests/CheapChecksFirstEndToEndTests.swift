import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import Testing

/// Runs `vault-cli ARGS` on a pseudo-terminal and returns its exit status and screen.
private func onTerminal(_ v: VaultFixture, _ args: [String]) async throws -> (Int32, String) {
    let session = try PTYSession(try Binaries.path("vault-cli"), args + v.globalArgs, environment: v.cliEnvironment)
    // A command that asks would wait here for a passphrase: answer nothing, it has to stop by itself.
    let status = await session.waitForExit(timeout: .seconds(30))
    return (status, session.output.text)
}

@Suite("End to end: cheap refusals come before the passphrase", .serialized)
struct CheapChecksFirstEndToEndTests {
    @Test("approve of an unknown id, approve with the daemon down, review with nothing pending, init over an existing key file and restore into an existing vault refuse without asking for the passphrase")
    func refusalsBeforePassphrase() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let backup = try await v.cli(["backup", "--out", v.root + "/vault.backup"])
        #expect(backup.status == 0, "\(backup.stderr)")

        let cases: [([String], String)] = [
            (["approve", "no-such-request"], "no request no-such-request"),
            (["deny", "no-such-request"], "no request no-such-request"),
            (["review"], "no pending requests"),
            (["init", "--kdf", "interactive"], "in use by vaultd pid"),
            (["restore", v.root + "/vault.backup"], "in use by vaultd pid"),
        ]
        for (args, expected) in cases {
            let (status, screen) = try await onTerminal(v, args)
            #expect(!screen.contains("assphrase"), "\(args) asked for a passphrase:\n\(screen)")
            #expect(screen.contains(expected), "\(args):\n\(screen)")
            #expect(status == (args == ["review"] ? 0 : 1), "\(args): exit \(status)")
        }
        try await v.stopDaemon()
        let stopped: [([String], String)] = [
            (["approve", "any-id"], "vaultd is not running"),
            (["init", "--kdf", "interactive"], "already holds a vault"),
            (["restore", v.root + "/vault.backup"], "already holds a vault"),
        ]
        for (args, expected) in stopped {
            let (status, screen) = try await onTerminal(v, args)
            #expect(status == 1 && !screen.contains("assphrase"), "\(args): \(screen)")
            #expect(screen.contains(expected), "\(args):\n\(screen)")
        }
    }

    @Test("A wrong passphrase is called wrong whatever its length; a new one must still be long enough")
    func wrongPassphrase() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        for (name, content) in [("short", "abcde\n"), ("long-wrong", "not the passphrase at all\n"), ("empty", "\n")] {
            try Data(content.utf8).write(to: URL(fileURLWithPath: v.root + "/" + name))
            let r = try await v.cli(["export", "--passphrase-file", v.root + "/" + name])
            #expect(r.status == 1 && r.stderr.hasPrefix("vault-cli: wrong passphrase") && r.stderr.split(separator: "\n").count == 1, "\(name): \(r.stderr)")
        }
        let other = try VaultFixture()
        try Data("abcde\n".utf8).write(to: URL(fileURLWithPath: other.root + "/short"))
        let r = try await other.cli(["init", "--kdf", "interactive", "--passphrase-file", other.root + "/short"])
        #expect(r.status == 1 && r.stderr.contains("at least 8 bytes"), "\(r.stderr)")
        try await v.stopDaemon()
    }
}
