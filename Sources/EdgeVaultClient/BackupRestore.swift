import EdgeVaultCore
import EdgeVaultStore
#if canImport(Glibc)
import Glibc
#endif

/// The person's side of a restore: only their keys open the sealed log key.
extension Backup {
    /// Restores the backup in `file` into a new data directory; only the person (whose keys
    /// open the sealed log key) can. Refuses to overwrite a vault. The database is copied in
    /// pieces and checked against the backup's digest before it is used.
    /// Refuses a data directory that a running vaultd holds or that already holds a vault (a
    /// CLI checks this before it asks for the passphrase; `restore` and `init` check again).
    public static func checkTarget(dataDir: String) throws {
        // Not while a vaultd (or another restore) works in this directory: its lock is free.
        if FileIO.isDirectory(dataDir) { withExtendedLifetime(try DataDirectoryLock.acquire(dataDir: dataDir)) {} }
        let dbPath = dataDir + "/" + VaultStore.databaseFileName, logKeyPath = dataDir + "/" + LogKeyFile.name
        if FileIO.exists(dbPath) || FileIO.exists(logKeyPath) || FileIO.exists(dataDir + "/" + WitnessKeyFile.name) {
            throw VaultError(.vaultExists, "\(dataDir) already holds a vault; refusing to overwrite it")
        }
    }

    public static func restore(file: String, dataDir: String, keys: UserKeys) throws -> Header {
        let reader: FileIO.Reader
        do {
            reader = try FileIO.Reader(file)
        } catch let e as FileIO.Failure {
            throw VaultError(.badRequest, e.isNotFound ? "no backup at \(file)" : e.description)
        }
        var verifier = Verifier()
        var first: ArraySlice<UInt8> = []
        while verifier.header == nil, let chunk = try reader.next(chunkBytes) { first += try verifier.consume(chunk) }
        guard let header = verifier.header else { throw VaultError(.badRequest, "not an EdgeVault backup") }
        guard header.userKeyId == keys.publicKeys.keyId else {
            throw VaultError(.keyMismatch, "this backup belongs to key \(header.userKeyId), not to your key file (\(keys.publicKeys.keyId))")
        }
        let dbPath = dataDir + "/" + VaultStore.databaseFileName, logKeyPath = dataDir + "/" + LogKeyFile.name
        try checkTarget(dataDir: dataDir)
        // Held from here on: no vaultd (or another restore) works in this directory meanwhile.
        var lock = FileIO.isDirectory(dataDir) ? try DataDirectoryLock.acquire(dataDir: dataDir) : nil
        defer { withExtendedLifetime(lock) {} }
        guard let sealed = Encoding.fromBase64(header.logKeySealed) else { throw VaultError(.badRequest, "the backup's log key is malformed") }
        let seed: SecureBytes
        do { seed = try SealedBox.open(sealed, keyPair: keys.box) } catch {
            throw VaultError(.keyMismatch, "the backup's log key does not open with your key")
        }
        let logKey = SigningKeyPair(seed: seed)
        try FileIO.makeDirectories(dataDir, mode: 0o750)
        if lock == nil { lock = try DataDirectoryLock.acquire(dataDir: dataDir) }
        do {
            let db = try FileIO.Writer(creating: dbPath, mode: 0o600)
            try db.write(Array(first))
            while let chunk = try reader.next(chunkBytes) { try db.write(Array(try verifier.consume(chunk))) }
            _ = try verifier.finish()
            try db.commit()
        }
        var wroteWitness = false
        do {
            let store = try VaultStore(path: dbPath)
            let vault = try store.vaultBlocking()
            guard [UInt8](vault.logPublicKey) == logKey.publicKey.bytes, vault.origin == header.origin, vault.userKeyId == header.userKeyId else {
                throw VaultError(.badRequest, "the backup's database and log key do not belong together")
            }
            // The witness key too, when the backup carries it: the peers keep knowing this vault
            // by the key they added, and their witness state for its log carries on.
            if let text = header.witnessKeySealed {
                guard let sealedWitness = Encoding.fromBase64(text), let key = try? SealedBox.open(sealedWitness, keyPair: keys.box),
                      (try? Cosigner(signerKey: key))?.name == WitnessKeyFile.witnessName(origin: vault.origin) else {
                    throw VaultError(.badRequest, "the backup's witness key does not open with your key or is not this vault's")
                }
                try key.withUnsafeBytes { try FileIO.writeNew(dataDir + "/" + WitnessKeyFile.name, Array($0), mode: 0o600) }
                wroteWitness = true
            }
            try NoteKeys.signerKey(name: vault.origin, keyPair: logKey).withUnsafeBytes { try FileIO.writeNew(logKeyPath, Array($0), mode: 0o600) }
        } catch {
            if wroteWitness { unlink(dataDir + "/" + WitnessKeyFile.name) }
            unlink(dbPath)
            unlink(dbPath + "-wal")
            unlink(dbPath + "-shm")
            throw error
        }
        return header
    }
}
