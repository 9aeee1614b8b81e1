#if canImport(Glibc)
import Glibc
#endif

/// A witness's cosignature key file (docs/PROTOCOL.md §"Witnesses"): the signer key text of
/// an Ed25519 `cosignature/v1` key (type 0x04), mode 0600. A vault's is `witness.key` in its
/// data directory, named `<origin>/witness`, made by the first vaultd start that finds none
/// (so vaults made before witnesses get one too); it is not the log key, so a witness's
/// cosignature can never pass for the vault's own checkpoint signature.
public enum WitnessKeyFile {
    public static let name = "witness.key"

    /// The name of a vault's witness key.
    public static func witnessName(origin: String) -> String { origin + "/witness" }

    /// Reads the cosigner in `path`, or makes one named `name` there when there is none.
    /// A file holding a key of another name is refused: it belongs to another witness.
    public static func loadOrCreate(path: String, name: String) throws -> Cosigner {
        if !FileIO.exists(path) {
            let cosigner = try Cosigner(name: name, keyPair: SigningKeyPair.generate())
            let text = cosigner.signerKey
            do {
                try text.withUnsafeBytes { try FileIO.writeNew(path, Array($0), mode: 0o600) }
            } catch let e as FileIO.Failure where e.errno == EEXIST {
                // Another process made it meanwhile: read theirs.
                return try load(path: path, name: name)
            }
            return cosigner
        }
        return try load(path: path, name: name)
    }

    public static func load(path: String, name: String) throws -> Cosigner {
        var bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: 4096)
        } catch let e as FileIO.Failure {
            throw VaultError(.keyFileMissing, e.isNotFound ? "no witness key at \(path)" : e.description)
        }
        let cosigner = try Cosigner(signerKey: SecureBytes(wiping: &bytes))
        guard cosigner.name == name else {
            throw VaultError(.keyMismatch, "\(path) is the witness key of \(cosigner.name), not of \(name)")
        }
        return cosigner
    }
}
