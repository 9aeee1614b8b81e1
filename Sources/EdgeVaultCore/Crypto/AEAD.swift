import CSodium

/// XChaCha20-Poly1305 (IETF) authenticated encryption, `crypto_aead_xchacha20poly1305_ietf`.
public enum AEAD {
    public static let keyBytes = 32
    public static let nonceBytes = 24
    public static let tagBytes = 16

    /// Encrypts `plaintext` under `key`; returns ciphertext ‖ tag.
    public static func seal(
        _ plaintext: UnsafeRawBufferPointer, key: SecureBytes, nonce: [UInt8], associatedData: [UInt8]
    ) -> [UInt8] {
        precondition(key.count == keyBytes && nonce.count == nonceBytes)
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: plaintext.count + tagBytes)
        var outLen: UInt64 = 0
        let rc = out.withUnsafeMutableBufferPointer { o in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_encrypt(
                    o.baseAddress!, &outLen,
                    plaintext.baseAddress?.assumingMemoryBound(to: UInt8.self), UInt64(plaintext.count),
                    associatedData, UInt64(associatedData.count),
                    nil, nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        precondition(rc == 0 && Int(outLen) == out.count, "xchacha20poly1305 encrypt failed")
        return out
    }

    public static func seal(_ plaintext: [UInt8], key: SecureBytes, nonce: [UInt8], associatedData: [UInt8]) -> [UInt8] {
        plaintext.withUnsafeBytes { seal($0, key: key, nonce: nonce, associatedData: associatedData) }
    }

    /// Decrypts and authenticates; throws `CryptoError.authenticationFailed` on any mismatch.
    public static func open(
        _ ciphertext: [UInt8], key: SecureBytes, nonce: [UInt8], associatedData: [UInt8]
    ) throws -> [UInt8] {
        guard key.count == keyBytes, nonce.count == nonceBytes else { throw CryptoError.invalidKey }
        guard ciphertext.count >= tagBytes else { throw CryptoError.authenticationFailed }
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagBytes)
        var outLen: UInt64 = 0
        let rc = out.withUnsafeMutableBufferPointer { o in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    o.baseAddress!, &outLen, nil,
                    ciphertext, UInt64(ciphertext.count),
                    associatedData, UInt64(associatedData.count),
                    nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return out
    }

    /// Decrypts a secret (a key) straight into guarded memory.
    public static func openSecret(
        _ ciphertext: [UInt8], key: SecureBytes, nonce: [UInt8], associatedData: [UInt8]
    ) throws -> SecureBytes {
        guard key.count == keyBytes, nonce.count == nonceBytes else { throw CryptoError.invalidKey }
        guard ciphertext.count > tagBytes else { throw CryptoError.authenticationFailed }
        Sodium.ensureInitialized()
        let out = SecureBytes(count: ciphertext.count - tagBytes)
        var outLen: UInt64 = 0
        let rc = out.withUnsafeMutableBytes { o in
            key.withUnsafeBytes { k in
                crypto_aead_xchacha20poly1305_ietf_decrypt(
                    o.baseAddress!.assumingMemoryBound(to: UInt8.self), &outLen, nil,
                    ciphertext, UInt64(ciphertext.count),
                    associatedData, UInt64(associatedData.count),
                    nonce, k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.authenticationFailed }
        return out
    }

    /// Encrypts a secret held in guarded memory.
    public static func sealSecret(_ secret: SecureBytes, key: SecureBytes, nonce: [UInt8], associatedData: [UInt8]) -> [UInt8] {
        secret.withUnsafeBytes { seal($0, key: key, nonce: nonce, associatedData: associatedData) }
    }
}
