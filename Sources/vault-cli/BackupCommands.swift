import ArgumentParser
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import EdgeVaultTerminal

struct BackupCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup of the running vault (ciphertext and public material only).",
        discussion: """
            The database is copied with SQLite's VACUUM INTO while vaultd runs; the log's signing \
            key is included sealed to your box key. Your key file is NOT in the backup: keep a \
            copy of it (and remember its passphrase) somewhere else — without it nobody can \
            restore or read the vault. The backup streams to the file (memory use stays small).

            Example: vault-cli backup -o /media/usb/vault.backup
            """)

    @OptionGroup var global: GlobalOptions

    @Option(name: [.customShort("o"), .customLong("output"), .customLong("out")], help: "Where to write the backup (refuses to overwrite).")
    var out: String

    func execute() async throws {
        let path = FileIO.absolute(out)
        let bar = ProgressBar(label: "backup", total: 0, unit: "bytes")
        let header = try await global.client().backup(to: path) { received, total in
            if let total { bar.total = Int64(total) }
            bar.advance(by: Int64(received) - bar.done)
        }
        bar.finish()
        print("backup of \(header.origin) written to \(path) (\(header.databaseBytes) database bytes); keep your key file safe separately")
    }
}

struct RestoreCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new data directory (asks for your passphrase).",
        discussion: "Refuses to overwrite a vault. Start vaultd on the restored directory afterwards, then `vault-cli log verify`.\n\nExample: vault-cli restore /media/usb/vault.backup --data-dir /var/lib/edgevault")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup file.")
    var file: String

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func execute() async throws {
        let path = FileIO.absolute(file)
        guard FileIO.exists(path) else { throw VaultError(.badRequest, "no backup at \(file)") }
        let config = try global.configuration()
        try Backup.checkTarget(dataDir: config.dataDir)
        let keys = try global.unlock(passphraseFile: passphraseFile)
        let header = try Backup.restore(file: path, dataDir: config.dataDir, keys: keys)
        print("restored \(header.origin) (backup of \(header.created)) into \(config.dataDir)")
    }
}
