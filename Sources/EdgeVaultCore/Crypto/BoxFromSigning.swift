import CSodium

/// X25519 keys from Ed25519 ones (`crypto_sign_ed25519_pk_to_curve25519`,
/// `crypto_sign_ed25519_sk_to_curve25519`): a peer's witness key, which the person already
/// pinned with `peer add`, doubles as the key their recovery share is sealed to
/// (docs/PROTOCOL.md §"Key recovery", "Shares sealed to peers"), so no second key has to be
/// exchanged and checked. libsodium documents this conversion for exactly this use.
extension SigningPublicKey {
    public func boxPublicKey() throws -> [UInt8] {
        Sodium.ensureInitialized()
        var out = [UInt8](repeating: 0, count: Int(crypto_box_publickeybytes()))
        guard crypto_sign_ed25519_pk_to_curve25519(&out, bytes) == 0, BoxKeyPair.isValidPublicKey(out) else { throw CryptoError.invalidKey }
        return out
    }
}

extension SigningKeyPair {
    /// The X25519 key pair of this Ed25519 key pair; the secret half in guarded memory.
    public func boxKeyPair() throws -> BoxKeyPair {
        let secret = SecureBytes(count: Int(crypto_box_secretkeybytes()))
        let rc = secret.withUnsafeMutableBytes { s in
            secretKey.withUnsafeBytes { k in
                crypto_sign_ed25519_sk_to_curve25519(s.baseAddress!.assumingMemoryBound(to: UInt8.self), k.baseAddress!.assumingMemoryBound(to: UInt8.self))
            }
        }
        guard rc == 0 else { throw CryptoError.primitiveFailed("crypto_sign_ed25519_sk_to_curve25519") }
        return BoxKeyPair(publicKey: try publicKey.boxPublicKey(), secretKey: secret)
    }
}
