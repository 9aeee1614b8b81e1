#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The person's key file: the 32-byte root secret encrypted under a key stretched from their
/// passphrase (Argon2id13 → XChaCha20-Poly1305), plus the public keys for display.
///
/// It lives outside the data directory (default `$XDG_CONFIG_HOME/edgevault/user.key`) and
/// is never readable by the daemon.
public struct UserKeyFile: Codable, Sendable, Equatable {
    public static let type = "edgevault.user-key/v1"
    public static let maxFileSize = 64 * 1024
    public static let minPassphraseBytes = 8
    public static let maxPassphraseBytes = 1024

    public struct KDF: Codable, Sendable, Equatable {
        public var alg: String
        public var opsLimit: UInt64
        public var memLimit: Int
        public var salt: String
    }

    public var type: String
    public var keyId: String
    public var signingKey: String
    public var boxKey: String
    public var kdf: KDF
    public var nonce: String
    public var ciphertext: String
    public var created: String

    static func associatedData(keyId: String) -> [UInt8] { Array("edgevault/user-key/v1:\(keyId)".utf8) }

    /// Creates a new root secret and its key file; returns both the file and the unlocked keys.
    public static func create(passphrase: SecureBytes, cost: KeyDerivation.PasswordCost, now: Date = Date()) throws -> (UserKeyFile, UserKeys) {
        try create(root: SecureBytes.random(count: 32), passphrase: passphrase, cost: cost, now: now)
    }

    /// A key file for an existing root secret under a new passphrase (key recovery,
    /// docs/PROTOCOL.md §"Key recovery"): the same root gives the same keys and key id.
    public static func create(root: SecureBytes, passphrase: SecureBytes, cost: KeyDerivation.PasswordCost,
                              now: Date = Date()) throws -> (UserKeyFile, UserKeys) {
        guard root.count == 32 else { throw VaultError(.keyFileInvalid, "a root secret is 32 bytes") }
        let keys = UserKeys(root: root)
        let pub = keys.publicKeys
        let salt = Sodium.randomBytes(KeyDerivation.saltBytes)
        let nonce = Sodium.randomBytes(AEAD.nonceBytes)
        let wrapKey = try KeyDerivation.argon2id(passphrase: passphrase, salt: salt, cost: cost)
        let sealed = AEAD.sealSecret(root, key: wrapKey, nonce: nonce, associatedData: associatedData(keyId: pub.keyId))
        let file = UserKeyFile(
            type: type, keyId: pub.keyId,
            signingKey: Encoding.base64url(pub.signingKey), boxKey: Encoding.base64url(pub.boxKey),
            kdf: KDF(alg: "argon2id13", opsLimit: cost.opsLimit, memLimit: cost.memLimit, salt: Encoding.base64url(salt)),
            nonce: Encoding.base64url(nonce), ciphertext: Encoding.base64url(sealed),
            created: Timestamp.rfc3339(milliseconds: Int64(now.timeIntervalSince1970 * 1000)))
        return (file, keys)
    }

    /// The public keys as recorded in the file (not yet proven by a passphrase).
    public func publicKeys() throws -> UserPublicKeys {
        guard let s = Encoding.fromBase64url(signingKey), s.count == 32,
              let b = Encoding.fromBase64url(boxKey), b.count == 32 else {
            throw VaultError(.keyFileInvalid, "the key file's public keys are malformed")
        }
        return UserPublicKeys(signingKey: s, boxKey: b)
    }

    /// Decrypts the root secret and derives the keys; a wrong passphrase is one clear error.
    public func unlock(passphrase: SecureBytes) throws -> UserKeys {
        try unlockWithRoot(passphrase: passphrase).keys
    }

    /// `unlock`, also handing out the root secret itself (in guarded memory): only for
    /// splitting it into recovery shares (docs/PROTOCOL.md §"Key recovery").
    public func unlockWithRoot(passphrase: SecureBytes) throws -> (keys: UserKeys, root: SecureBytes) {
        guard type == Self.type, kdf.alg == "argon2id13" else {
            throw VaultError(.keyFileInvalid, "unsupported key file (type \(type), kdf \(kdf.alg))")
        }
        let cost = KeyDerivation.PasswordCost(opsLimit: kdf.opsLimit, memLimit: kdf.memLimit)
        guard cost.isWithinBounds, let salt = Encoding.fromBase64url(kdf.salt), salt.count == KeyDerivation.saltBytes,
              let nonce = Encoding.fromBase64url(nonce), nonce.count == AEAD.nonceBytes,
              let sealed = Encoding.fromBase64url(ciphertext)
        else { throw VaultError(.keyFileInvalid, "the key file is malformed") }
        let wrapKey = try KeyDerivation.argon2id(passphrase: passphrase, salt: salt, cost: cost)
        let root: SecureBytes
        do {
            root = try AEAD.openSecret(sealed, key: wrapKey, nonce: nonce, associatedData: Self.associatedData(keyId: keyId))
        } catch {
            throw VaultError(.wrongPassphrase, "wrong passphrase (or the key file was altered)")
        }
        guard root.count == 32 else { throw VaultError(.keyFileInvalid, "the key file is malformed") }
        let keys = UserKeys(root: root)
        guard keys.publicKeys.keyId == keyId else {
            throw VaultError(.keyFileInvalid, "the key file's key id does not match its secret")
        }
        return (keys, root)
    }

    public func encoded() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return Array(try encoder.encode(self)) + [0x0A]
    }

    /// Writes a new key file with mode 0600, creating its directory (0700); never overwrites.
    public func write(to path: String) throws {
        if FileIO.exists(path) {
            throw VaultError(.keyFileExists, "a key file already exists at \(path); refusing to overwrite it")
        }
        do {
            try FileIO.makeDirectories(FileIO.parentDirectory(path), mode: 0o700)
            try FileIO.writeNew(path, try encoded(), mode: 0o600)
        } catch let e as FileIO.Failure {
            throw VaultError(.keyFileInvalid, e.description)
        }
    }

    /// Reads and parses a key file, with a clear error for a missing or malformed one.
    public static func read(from path: String) throws -> UserKeyFile {
        let bytes: [UInt8]
        do {
            bytes = try FileIO.read(path, limit: maxFileSize)
        } catch let e as FileIO.Failure {
            if e.isNotFound {
                throw VaultError(.keyFileMissing, "no key file at \(path) (run `vault-cli init`, or pass --user-key PATH)")
            }
            throw VaultError(.keyFileInvalid, e.description)
        }
        do {
            let file = try JSONDecoder().decode(UserKeyFile.self, from: Data(bytes))
            guard file.type == type else { throw VaultError(.keyFileInvalid, "\(path) is not an EdgeVault key file") }
            return file
        } catch let e as VaultError {
            throw e
        } catch {
            throw VaultError(.keyFileInvalid, "\(path) is not a valid EdgeVault key file")
        }
    }

    /// The default key file path: `$XDG_CONFIG_HOME/edgevault/user.key` or `~/.config/edgevault/user.key`.
    public static func defaultPath() -> String {
        if let xdg = FileIO.environment("XDG_CONFIG_HOME"), !xdg.isEmpty { return xdg + "/edgevault/user.key" }
        return (FileIO.environment("HOME") ?? ".") + "/.config/edgevault/user.key"
    }
}
