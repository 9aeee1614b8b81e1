import CSodium

/// Anonymous public-key encryption to an X25519 key (`crypto_box_seal`).
///
/// Used for segment keys: the daemon seals each fresh DEK to the person's box key (and to
/// grantees' delivery keys) and can never open what it sealed.
public enum SealedBox {
    /// Bytes added to the message by sealing (ephemeral key + MAC).
    public static var overhead: Int { Int(crypto_box_sealbytes()) }

    /// Seals `secret` to `publicKey` (32-byte X25519).
    public static func seal(_ secret: SecureBytes, to publicKey: [UInt8]) throws -> [UInt8] {
        guard publicKey.count == Int(crypto_box_publickeybytes()) else { throw CryptoError.invalidKey }
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: secret.count + overhead)
        let rc = out.withUnsafeMutableBufferPointer { o in
            secret.withUnsafeBytes { m in
                crypto_box_seal(o.baseAddress!, m.baseAddress!.assumingMemoryBound(to: UInt8.self), UInt64(secret.count), publicKey)
            }
        }
        guard rc == 0 else { throw CryptoError.primitiveFailed("crypto_box_seal") }
        return out
    }

    /// Seals ordinary bytes (a job's output), empty included.
    public static func seal(bytes message: [UInt8], to publicKey: [UInt8]) throws -> [UInt8] {
        guard publicKey.count == Int(crypto_box_publickeybytes()) else { throw CryptoError.invalidKey }
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: message.count + overhead)
        let padded = message + [0]  // a valid pointer even for an empty message
        let rc = crypto_box_seal(&out, padded, UInt64(message.count), publicKey)
        guard rc == 0 else { throw CryptoError.primitiveFailed("crypto_box_seal") }
        return out
    }

    /// Opens a box of ordinary bytes (a job's output), empty included.
    public static func openBytes(_ sealed: [UInt8], keyPair: BoxKeyPair) throws -> [UInt8] {
        guard sealed.count >= overhead else { throw CryptoError.authenticationFailed }
        var out = [UInt8](repeating: 0, count: sealed.count - overhead + 1)
        let rc = keyPair.secretKey.withUnsafeBytes { sk in
            crypto_box_seal_open(&out, sealed, UInt64(sealed.count), keyPair.publicKey, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        out.removeLast()
        return out
    }

    /// Opens a sealed box with the recipient's key pair; the result stays in guarded memory.
    ///
    /// Only person-side (`vault-cli`) and organization-side code calls this: the daemon holds
    /// no box secret key (see docs/SECURITY.md).
    public static func open(_ sealed: [UInt8], keyPair: BoxKeyPair) throws -> SecureBytes {
        guard sealed.count >= overhead else { throw CryptoError.authenticationFailed }
        let out = SecureBytes(count: sealed.count - overhead)
        let rc = out.withUnsafeMutableBytes { o in
            keyPair.secretKey.withUnsafeBytes { sk in
                crypto_box_seal_open(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), sealed, UInt64(sealed.count),
                    keyPair.publicKey, sk.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return out
    }
}

/// An X25519 key pair for sealed boxes; the secret half lives in guarded memory.
public struct BoxKeyPair: Sendable {
    public let publicKey: [UInt8]
    public let secretKey: SecureBytes

    /// Deterministic key pair from a 32-byte seed (`crypto_box_seed_keypair`).
    public init(seed: SecureBytes) {
        precondition(seed.count == Int(crypto_box_seedbytes()))
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: Int(crypto_box_publickeybytes()))
        let sk = SecureBytes(count: Int(crypto_box_secretkeybytes()))
        let rc = pk.withUnsafeMutableBufferPointer { p in
            sk.withUnsafeMutableBytes { s in
                seed.withUnsafeBytes { sd in
                    crypto_box_seed_keypair(
                        p.baseAddress!, s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        sd.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        precondition(rc == 0)
        self.publicKey = pk
        self.secretKey = sk
    }

    init(publicKey: [UInt8], secretKey: SecureBytes) {
        self.publicKey = publicKey
        self.secretKey = secretKey
    }

    /// A fresh random key pair.
    public static func generate() -> BoxKeyPair { BoxKeyPair(seed: .random(count: Int(crypto_box_seedbytes()))) }

    /// Whether `bytes` is usable as an X25519 public key (right size, not a low-order point).
    public static func isValidPublicKey(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == Int(crypto_box_publickeybytes()) else { return false }
        Sodium.ensureInitialized()
        // A key that yields an all-zero shared secret with any scalar is a low-order point.
        let probe = SecureBytes.random(count: 32)
        var shared = [UInt8](repeating: 0, count: 32)
        let rc = shared.withUnsafeMutableBufferPointer { s in
            probe.withUnsafeBytes { p in crypto_scalarmult(s.baseAddress!, p.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes) }
        }
        return rc == 0
    }
}
