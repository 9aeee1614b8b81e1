/// The log key's file in the data directory (docs/PROTOCOL.md §"The log key"): the C2SP
/// signer key, written by `vault-cli init`, read by vaultd and by backups.
public enum LogKeyFile {
    public static let name = "log.key"

    /// Reads the C2SP signer key in `<dataDir>/log.key` into guarded memory.
    public static func loadSigner(dataDir: String) throws -> (String, SigningKeyPair) {
        let path = dataDir + "/" + name
        var bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: 4096)
        } catch let e as FileIO.Failure {
            throw VaultError(.vaultMissing, e.isNotFound ? "no log key at \(path)" : e.description)
        }
        return try NoteKeys.parseSignerKey(SecureBytes(wiping: &bytes))
    }
}
