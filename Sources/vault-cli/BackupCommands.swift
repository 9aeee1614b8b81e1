import ArgumentParser
import EdgeVault

struct BackupCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "backup",
        abstract: "Write a consistent backup of the running vault (ciphertext and public material only).",
        discussion: """
            The database is copied with SQLite's VACUUM INTO while vaultd runs; the log's signing \
            key is included sealed to your box key. Your key file is NOT in the backup: keep a \
            copy of it (and remember its passphrase) somewhere else — without it nobody can \
            restore or read the vault. The backup is held in memory (at most 1 GiB).
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: "Where to write the backup (refuses to overwrite).")
    var out: String

    func execute() async throws {
        let bytes = try await global.client().backup()
        let (header, _) = try Backup.parse(bytes)
        try FileIO.writeNew(FileIO.absolute(out), bytes, mode: 0o600)
        print("backup of \(header.origin) written to \(FileIO.absolute(out)) (\(bytes.count) bytes); keep your key file safe separately")
    }
}

struct RestoreCommand: VaultCommand {
    static let configuration = CommandConfiguration(
        commandName: "restore",
        abstract: "Restore a backup into a new data directory (asks for your passphrase).",
        discussion: "Refuses to overwrite a vault. Start vaultd on the restored directory afterwards, then `vault-cli log verify`.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The backup file.")
    var file: String

    @Option(help: "Read the passphrase from this file instead of asking.")
    var passphraseFile: String?

    func execute() async throws {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(FileIO.absolute(file), limit: Backup.maxBytes + 64 * 1024)
        } catch let e as FileIO.Failure {
            throw VaultError(.badRequest, e.isNotFound ? "no backup at \(file)" : e.description)
        }
        let (header, _) = try Backup.parse(bytes)
        let config = try global.configuration()
        let keys = try global.unlock(passphraseFile: passphraseFile)
        try Backup.restore(bytes, dataDir: config.dataDir, keys: keys)
        print("restored \(header.origin) (backup of \(header.created)) into \(config.dataDir)")
    }
}
