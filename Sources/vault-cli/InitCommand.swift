import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal
#if canImport(Glibc)
import Glibc
#endif

struct InitCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Create the person's key file and a new vault.",
        discussion: """
            Creates a random root secret, encrypts it under your passphrase (Argon2id) into the \
            key file (mode 0600, outside the data directory), and creates the data directory: \
            database, the log's signing key and your public keys. Refuses to overwrite an \
            existing vault or key file. Keep a copy of the key file and its passphrase: \
            without them nobody, including you, can read the data.

            Example: vault-cli init --kdf interactive
            """)

    enum KDFProfile: String, ExpressibleByArgument, CaseIterable {
        case moderate, interactive
    }

    @OptionGroup var global: GlobalOptions

    @Option(help: "Argon2id cost: moderate (256 MiB, default) or interactive (64 MiB, for small boards).")
    var kdf: KDFProfile = .moderate

    @Option(help: "Read the passphrase from this file instead of asking (for scripts).")
    var passphraseFile: String?

    func execute() async throws {
        let config = try global.configuration()
        // Files first: nothing is asked when init would refuse anyway.
        try VaultSetup.checkTargets(dataDir: config.dataDir, keyFile: global.userKeyPath)
        let passphrase = try Passphrase.read(prompt: "New passphrase: ", confirm: passphraseFile == nil, file: passphraseFile, new: true)
        let cost: KeyDerivation.PasswordCost = kdf == .moderate ? .moderate : .interactive
        let created = try VaultSetup.initialize(dataDir: config.dataDir, keyFile: global.userKeyPath, passphrase: passphrase, cost: cost)
        print("""
            Vault created.
              your key id:      \(created.keyId)
              your fingerprint: \(created.fingerprint)
              key file:         \(created.keyFile)   (back it up; it is useless without the passphrase)
              data directory:   \(created.dataDir)
              log origin:       \(created.origin)
              log verifier key: \(created.logVerifierKey)
            """)
        print(Self.nextSteps(dataDir: created.dataDir, adminSocket: config.adminSocket,
                             userKey: created.keyFile == UserKeyFile.defaultPath() ? nil : created.keyFile))
    }

    /// What to type next: the daemon with this vault's data directory and admin socket, and
    /// how vault-cli finds that socket (and a key file not at its default path).
    static func nextSteps(dataDir: String, adminSocket: String, userKey: String?) -> String {
        var lines = [
            "Next: start the daemon with this data directory and admin socket (in another",
            "terminal, or in the background of this one: add &, and `kill %vaultd` stops it):",
            "  vaultd --data-dir \(shellWord(dataDir)) --admin-socket \(shellWord(adminSocket))",
        ]
        if let blocked = unwritableAncestor(of: adminSocket) {
            lines.append("  (you cannot create files in \(blocked): pick a socket you own, for example")
            lines.append("   --admin-socket $HOME/edgevault/admin.sock, here and for vault-cli)")
        }
        lines.append("then tell vault-cli where the admin socket is (once per terminal) and look:")
        lines.append("  export EDGEVAULT_ADMIN_SOCKET=\(shellWord(adminSocket))")
        if let userKey { lines.append("  export EDGEVAULT_USER_KEY=\(shellWord(userKey))") }
        lines.append("  vault-cli status")
        return lines.joined(separator: "\n")
    }

    /// `path` as one shell word: as it is when that is safe, else in single quotes.
    static func shellWord(_ path: String) -> String {
        let plain = path.unicodeScalars.allSatisfy { c in
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || "/._-+:@%,=".unicodeScalars.contains(c)
        }
        return plain && !path.isEmpty ? path : "'" + path.split(separator: "'", omittingEmptySubsequences: false).joined(separator: "'\\''") + "'"
    }

    /// The nearest existing directory above `path` when this user cannot create entries in
    /// it (the default /run/edgevault for anyone but root), else nil.
    static func unwritableAncestor(of path: String) -> String? {
        var dir = FileIO.parentDirectory(path)
        while !dir.isEmpty && dir != "/" && access(dir, F_OK) != 0 { dir = FileIO.parentDirectory(dir) }
        if dir.isEmpty { dir = "/" }
        return access(dir, W_OK | X_OK) == 0 ? nil : dir
    }
}
