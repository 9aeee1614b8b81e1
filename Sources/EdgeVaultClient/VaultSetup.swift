import EdgeVaultCore
import EdgeVaultStore
/// Creates a new vault: the person's key file and the data directory (database, log key).
public enum VaultSetup {

    public struct Created: Sendable {
        public var keyId: String
        public var fingerprint: String
        public var origin: String
        public var logVerifierKey: String
        public var dataDir: String
        public var keyFile: String
    }

    /// The vault's log name: `edgevault.local/<first 16 chars of the log key thumbprint>`.
    public static func origin(logPublicKey: [UInt8]) -> String {
        "edgevault.local/" + JWKThumbprint.ed25519(logPublicKey).prefix(16)
    }

    /// The checks `initialize` makes before it creates anything (so a CLI can make them
    /// before it asks for a passphrase): no vault in `dataDir`, no key file, the key file
    /// outside the data directory.
    public static func checkTargets(dataDir: String, keyFile: String) throws {
        let dataDir = FileIO.absolute(dataDir)
        let keyFile = FileIO.absolute(keyFile)
        if FileIO.isInside(keyFile, directory: dataDir) {
            throw VaultError(.config, "the key file must not be inside the data directory (the daemon must never read it): \(keyFile)")
        }
        try Backup.checkTarget(dataDir: dataDir)  // no daemon there, no vault there (as restore checks)
        if FileIO.exists(keyFile) {
            throw VaultError(.keyFileExists, "a key file already exists at \(keyFile); refusing to overwrite it (use --user-key for another path)")
        }
    }

    /// Refuses to touch an existing vault or key file; on failure removes what it created.
    public static func initialize(
        dataDir: String, keyFile: String, passphrase: SecureBytes, cost: KeyDerivation.PasswordCost, now: Int64 = Timestamp.now()
    ) throws -> Created {
        let dataDir = FileIO.absolute(dataDir)
        let keyFile = FileIO.absolute(keyFile)
        let dbPath = dataDir + "/" + VaultStore.databaseFileName
        let logKeyPath = dataDir + "/" + LogKeyFile.name
        try checkTargets(dataDir: dataDir, keyFile: keyFile)
        // Held from here on: no vaultd (or restore) starts in this directory meanwhile.
        var lock = FileIO.isDirectory(dataDir) ? try DataDirectoryLock.acquire(dataDir: dataDir) : nil
        defer { withExtendedLifetime(lock) {} }
        let (file, keys) = try UserKeyFile.create(passphrase: passphrase, cost: cost)
        var created: [String] = []
        do {
            try FileIO.makeDirectories(dataDir, mode: 0o750)
            if lock == nil { lock = try DataDirectoryLock.acquire(dataDir: dataDir) }
            try file.write(to: keyFile)
            created.append(keyFile)

            let logKey = SigningKeyPair.generate()
            let origin = origin(logPublicKey: logKey.publicKey.bytes)
            let signer = NoteKeys.signerKey(name: origin, keyPair: logKey)
            try signer.withUnsafeBytes { try FileIO.writeNew(logKeyPath, Array($0), mode: 0o600) }
            created.append(logKeyPath)

            let store = try VaultStore(path: dbPath)
            created.append(dbPath)
            let pub = keys.publicKeys
            let verifierKey = NoteKeys.verifierKey(name: origin, publicKey: logKey.publicKey.bytes)
            try store.initializeVaultBlocking(
                VaultRecord(
                    userKeyId: pub.keyId, userSigningKey: Data(pub.signingKey), userBoxKey: Data(pub.boxKey),
                    logPublicKey: Data(logKey.publicKey.bytes), origin: origin, createdAt: now),
                genesis: .genesis(userKeyId: pub.keyId, logVerifierKey: verifierKey, origin: origin,
                                  personSignature: VaultBinding.sign(origin: origin, logKey: verifierKey, person: keys.signing), time: now))
            // The first checkpoint: the log is verifiable from its first leaf.
            let head = try store.treeHeadBlocking()
            let cp = Checkpoint(origin: origin, size: head.size, root: head.root)
            try store.saveCheckpointBlocking(cp, note: SignedNote.sign(text: cp.text, name: origin, keyPair: logKey), at: now)
            return Created(keyId: pub.keyId, fingerprint: pub.fingerprint, origin: origin, logVerifierKey: verifierKey,
                           dataDir: dataDir, keyFile: keyFile)
        } catch {
            for path in created.reversed() {
                unlink(path)
                if path == dbPath { unlink(path + "-wal"); unlink(path + "-shm") }
            }
            if let e = error as? FileIO.Failure { throw VaultError(.config, e.description) }
            throw error
        }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
#if canImport(Glibc)
import Glibc
#endif
