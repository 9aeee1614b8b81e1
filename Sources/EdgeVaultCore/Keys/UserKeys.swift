/// The person's unlocked keys, derived from the root secret (docs/PROTOCOL.md §"The person's keys").
///
/// Exists only inside `vault-cli` while a command that needs it runs; every secret half is
/// in guarded memory and wiped when the value goes away.
public struct UserKeys: Sendable {
    public static let kdfContext = "EVUSER01"

    /// Ed25519, subkey 1: signs grants, denials, revocations.
    public let signing: SigningKeyPair
    /// X25519, subkey 2: opens sealed segment keys.
    public let box: BoxKeyPair

    public init(root: SecureBytes) {
        precondition(root.count == 32)
        signing = SigningKeyPair(seed: KeyDerivation.subkey(root, id: 1, context: Self.kdfContext))
        box = BoxKeyPair(seed: KeyDerivation.subkey(root, id: 2, context: Self.kdfContext))
    }

    public var publicKeys: UserPublicKeys {
        UserPublicKeys(signingKey: signing.publicKey.bytes, boxKey: box.publicKey)
    }
}

/// The public half of the person's keys, as the vault records it at init.
public struct UserPublicKeys: Sendable, Equatable {
    public let signingKey: [UInt8]
    public let boxKey: [UInt8]

    public init(signingKey: [UInt8], boxKey: [UInt8]) {
        self.signingKey = signingKey
        self.boxKey = boxKey
    }

    /// RFC 7638 thumbprint of the signing key: the person's key id.
    public var keyId: String { JWKThumbprint.ed25519(signingKey) }
    public var fingerprint: String { Fingerprint.of(thumbprint: keyId)! }
}
