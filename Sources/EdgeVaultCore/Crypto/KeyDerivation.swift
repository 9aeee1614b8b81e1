import CSodium

/// Key derivation: `crypto_kdf` subkeys and Argon2id password hashing.
public enum KeyDerivation {
    /// A subkey of `masterKey` (`crypto_kdf_derive_from_key`, BLAKE2b-based).
    /// - Parameters:
    ///   - id: the subkey number.
    ///   - context: exactly 8 ASCII characters naming the purpose (`EVUSER01`).
    public static func subkey(_ masterKey: SecureBytes, id: UInt64, context: String, length: Int = 32) -> SecureBytes {
        let ctx = Array(context.utf8)
        precondition(ctx.count == Int(crypto_kdf_contextbytes()) && masterKey.count == Int(crypto_kdf_keybytes()))
        Sodium.ensureInitialized()
        let out = SecureBytes(count: length)
        let rc = out.withUnsafeMutableBytes { o in
            masterKey.withUnsafeBytes { k in
                ctx.withUnsafeBufferPointer { c in
                    c.withMemoryRebound(to: CChar.self) { cc in
                        crypto_kdf_derive_from_key(
                            o.baseAddress!.assumingMemoryBound(to: UInt8.self), length, id, cc.baseAddress!,
                            k.baseAddress!.assumingMemoryBound(to: UInt8.self))
                    }
                }
            }
        }
        precondition(rc == 0)
        return out
    }

    /// Cost settings for Argon2id.
    public struct PasswordCost: Sendable, Codable, Equatable {
        public var opsLimit: UInt64
        public var memLimit: Int

        public init(opsLimit: UInt64, memLimit: Int) {
            self.opsLimit = opsLimit
            self.memLimit = memLimit
        }

        /// libsodium's "moderate" profile (256 MiB, 3 passes): the default for a person's key.
        public static var moderate: PasswordCost {
            .init(opsLimit: UInt64(crypto_pwhash_opslimit_moderate()), memLimit: Int(crypto_pwhash_memlimit_moderate()))
        }
        /// libsodium's "interactive" profile (64 MiB, 2 passes): small boards and tests.
        public static var interactive: PasswordCost {
            .init(opsLimit: UInt64(crypto_pwhash_opslimit_interactive()), memLimit: Int(crypto_pwhash_memlimit_interactive()))
        }
        /// The bounds a key file may ask for, so a hostile file cannot make us allocate 4 GiB.
        public var isWithinBounds: Bool {
            opsLimit >= UInt64(crypto_pwhash_opslimit_min()) && opsLimit <= 32
                && memLimit >= 8 * 1024 * 1024 && memLimit <= 2 * 1024 * 1024 * 1024
        }
    }

    public static var saltBytes: Int { Int(crypto_pwhash_saltbytes()) }

    /// Argon2id13 (`crypto_pwhash`) of a passphrase into a 32-byte key in guarded memory.
    public static func argon2id(passphrase: SecureBytes, salt: [UInt8], cost: PasswordCost) throws -> SecureBytes {
        guard salt.count == saltBytes, cost.isWithinBounds else { throw CryptoError.invalidKey }
        Sodium.ensureInitialized()
        let out = SecureBytes(count: 32)
        let rc = out.withUnsafeMutableBytes { o in
            passphrase.withUnsafeBytes { p in
                crypto_pwhash(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), 32,
                    p.baseAddress!.assumingMemoryBound(to: CChar.self), UInt64(passphrase.count),
                    salt, cost.opsLimit, cost.memLimit, crypto_pwhash_alg_argon2id13())
            }
        }
        guard rc == 0 else { throw CryptoError.primitiveFailed("argon2id: not enough memory") }
        return out
    }
}
