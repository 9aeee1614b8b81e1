import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

/// Options every subcommand accepts (ignored where a command has no use for one).
struct GlobalOptions: ParsableArguments {
    @Option(help: "Config file (TOML); default \(Configuration.defaultPath) when it exists.")
    var config: String?

    @Option(help: "Data directory of the vault (database, log key).")
    var dataDir: String?

    @Option(help: "vaultd's admin Unix socket.")
    var adminSocket: String?

    @Option(help: "The person's key file (default $XDG_CONFIG_HOME/edgevault/user.key).")
    var userKey: String?

    func configuration() throws -> Configuration {
        var c = try Configuration.load(path: config, environment: Configuration.processEnvironment())
        try c.apply(dataDir: dataDir, adminSocket: adminSocket)
        return c
    }

    var userKeyPath: String {
        FileIO.absolute(userKey ?? FileIO.environment("EDGEVAULT_USER_KEY") ?? UserKeyFile.defaultPath())
    }

    func client() throws -> AdminClient {
        AdminClient(socketPath: try configuration().adminSocket)
    }

    /// Unlocks the person's keys and checks they are the keys of the vault `client` talks to.
    func unlock(passphraseFile: String?, for client: AdminClient) async throws -> UserKeys {
        let vault = try await client.vault()
        let keys = try unlock(passphraseFile: passphraseFile)
        try keys.requireOwner(of: vault)
        // Keys sealed before they were bound to their segment are upgraded now that the
        // person's key is open; until then they are never re-sealed for an organization.
        let upgrade = try await SegmentKeyUpgrader(client: client, keys: keys).run()
        if upgrade.upgraded > 0 {
            let entries = upgrade.leafIndexes.map { "#\($0)" }.joined(separator: ", ")
            eprint("bound \(upgrade.upgraded) older segment key(s) to their segment, stream and bucket; ledger "
                   + (upgrade.leafIndexes.count == 1 ? "entry " : "entries ") + entries + "\n")
        }
        if !upgrade.refused.isEmpty {
            eprint("vault-cli: \(upgrade.refused.count) older segment key(s) could not be bound (they do not open with your key "
                   + "or do not match their own chunks) and are never granted: \(upgrade.refused.prefix(5).joined(separator: ", "))\n")
        }
        return keys
    }

    /// Reads the key file, asks for the passphrase and unlocks the person's keys.
    func unlock(passphraseFile: String?) throws -> UserKeys {
        try unlockWithRoot(try UserKeyFile.read(from: userKeyPath), passphraseFile: passphraseFile).keys
    }

    /// Asks for the passphrase of `file` and unlocks it, root secret included (key recovery only).
    func unlockWithRoot(_ file: UserKeyFile, passphraseFile: String?) throws -> (keys: UserKeys, root: SecureBytes) {
        let passphrase = try Passphrase.read(prompt: "Passphrase for \(Fingerprint.of(thumbprint: file.keyId) ?? file.keyId): ", file: passphraseFile)
        return try file.unlockWithRoot(passphrase: passphrase)
    }
}
