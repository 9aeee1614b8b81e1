import CSodium

/// An Ed25519 public key.
public struct SigningPublicKey: Sendable, Hashable {
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) throws {
        guard bytes.count == Int(crypto_sign_publickeybytes()) else { throw CryptoError.invalidKey }
        self.bytes = bytes
    }

    /// Verifies a detached Ed25519 signature (`crypto_sign_verify_detached`).
    public func isValidSignature(_ signature: [UInt8], for message: [UInt8]) -> Bool {
        message.withUnsafeBytes { isValidSignature(signature, for: $0) }
    }

    public func isValidSignature(_ signature: [UInt8], for message: UnsafeRawBufferPointer) -> Bool {
        guard signature.count == Int(crypto_sign_bytes()) else { return false }
        Sodium.ensureInitialized()
        return crypto_sign_verify_detached(
            signature, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count), bytes) == 0
    }
}

/// An Ed25519 key pair whose secret half lives in guarded memory.
public struct SigningKeyPair: Sendable {
    public let publicKey: SigningPublicKey
    /// libsodium's 64-byte secret key (seed ‖ public key).
    let secretKey: SecureBytes

    /// Deterministic key pair from a 32-byte seed (`crypto_sign_seed_keypair`, RFC 8032).
    public init(seed: SecureBytes) {
        precondition(seed.count == Int(crypto_sign_seedbytes()))
        Sodium.ensureInitialized()
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_publickeybytes()))
        let sk = SecureBytes(count: Int(crypto_sign_secretkeybytes()))
        let rc = pk.withUnsafeMutableBufferPointer { p in
            sk.withUnsafeMutableBytes { s in
                seed.withUnsafeBytes { sd in
                    crypto_sign_seed_keypair(
                        p.baseAddress!, s.baseAddress!.assumingMemoryBound(to: UInt8.self),
                        sd.baseAddress!.assumingMemoryBound(to: UInt8.self))
                }
            }
        }
        precondition(rc == 0)
        self.publicKey = try! SigningPublicKey(bytes: pk)
        self.secretKey = sk
    }

    public static func generate() -> SigningKeyPair { SigningKeyPair(seed: .random(count: Int(crypto_sign_seedbytes()))) }

    /// The 32-byte seed this key pair was made from (a secret).
    public var seed: SecureBytes { secretKey.slice(0..<Int(crypto_sign_seedbytes())) }

    /// A detached Ed25519 signature over `message`.
    public func sign(_ message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { sign($0) }
    }

    public func sign(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var sig = [UInt8](repeating: 0, count: Int(crypto_sign_bytes()))
        let rc = sig.withUnsafeMutableBufferPointer { s in
            secretKey.withUnsafeBytes { k in
                crypto_sign_detached(
                    s.baseAddress!, nil, message.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(message.count),
                    k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        precondition(rc == 0)
        return sig
    }
}
