import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

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
            Next: start the daemon with the same data directory and admin socket,
              vaultd --data-dir \(created.dataDir) --admin-socket \(config.adminSocket)
            then, in another terminal: vault-cli status --admin-socket \(config.adminSocket)
            """)
    }
}
