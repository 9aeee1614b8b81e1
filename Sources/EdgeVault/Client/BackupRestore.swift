#if canImport(Glibc)
import Glibc
#endif

/// The person's side of a restore: only their keys open the sealed log key.
extension Backup {
    /// Restores a backup into a new data directory; only the person (whose keys open the sealed
    /// log key) can. Refuses to overwrite a vault.
    public static func restore(_ bytes: [UInt8], dataDir: String, keys: UserKeys) throws {
        let (header, db) = try parse(bytes)
        guard header.userKeyId == keys.publicKeys.keyId else {
            throw VaultError(.keyMismatch, "this backup belongs to key \(header.userKeyId), not to your key file (\(keys.publicKeys.keyId))")
        }
        let dbPath = dataDir + "/" + VaultStore.databaseFileName, logKeyPath = dataDir + "/" + VaultSetup.logKeyFileName
        if FileIO.exists(dbPath) || FileIO.exists(logKeyPath) {
            throw VaultError(.vaultExists, "\(dataDir) already holds a vault; refusing to overwrite it")
        }
        guard let sealed = Encoding.fromBase64(header.logKeySealed) else { throw VaultError(.badRequest, "the backup's log key is malformed") }
        let seed: SecureBytes
        do { seed = try SealedBox.open(sealed, keyPair: keys.box) } catch {
            throw VaultError(.keyMismatch, "the backup's log key does not open with your key")
        }
        let logKey = SigningKeyPair(seed: seed)
        try FileIO.makeDirectories(dataDir, mode: 0o750)
        try FileIO.writeNew(dbPath, Array(db), mode: 0o640)
        do {
            let store = try VaultStore(path: dbPath)
            let vault = try store.vault()
            guard [UInt8](vault.logPublicKey) == logKey.publicKey.bytes, vault.origin == header.origin, vault.userKeyId == header.userKeyId else {
                throw VaultError(.badRequest, "the backup's database and log key do not belong together")
            }
            try NoteKeys.signerKey(name: vault.origin, keyPair: logKey).withUnsafeBytes { try FileIO.writeNew(logKeyPath, Array($0), mode: 0o600) }
        } catch {
            unlink(dbPath)
            unlink(dbPath + "-wal")
            unlink(dbPath + "-shm")
            throw error
        }
    }
}
