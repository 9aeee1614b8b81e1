/// The person's signature, in the genesis leaf, over the vault's origin and log key
/// (docs/PROTOCOL.md §"The genesis leaf"): what lets anyone holding only the person's public key
/// tell their vault's log from one a stranger started in their name (anyone can seal a log key
/// to a public box key, so a backup's sealed key proves nothing by itself). `vault-cli init`
/// signs it while it holds the person's key.
public enum VaultBinding {
    /// The genesis leaf's member holding the signature (base64).
    public static let member = "personSignature"

    /// `edgevault.vault/v1\n<origin>\n<log verifier key>\n`.
    public static func message(origin: String, logKey: String) -> [UInt8] {
        Array("edgevault.vault/v1\n\(origin)\n\(logKey)\n".utf8)
    }

    public static func sign(origin: String, logKey: String, person: SigningKeyPair) -> String {
        Encoding.base64(person.sign(message(origin: origin, logKey: logKey)))
    }

    /// The vault a genesis leaf names, once its person's signature verifies with `owner` (the
    /// person's Ed25519 key) and it names that key.
    public struct Bound: Sendable, Equatable {
        public var origin: String
        /// The log's verifier key (`<origin>+<hash>+<key>`).
        public var logKey: String
    }

    public static func verify(genesis bytes: [UInt8], owner: [UInt8]) throws -> Bound {
        guard let leaf = try? LedgerLeaf(bytes: bytes), leaf.type == LedgerLeaf.Kind.genesis.rawValue,
              let origin = leaf.json["origin"]?.stringValue, let logKey = leaf.json["logKey"]?.stringValue,
              let userKeyId = leaf.json["userKeyId"]?.stringValue else {
            throw VaultError(.fragmentInvalid, "not a vault.genesis leaf")
        }
        guard userKeyId == JWKThumbprint.ed25519(owner) else {
            throw VaultError(.keyMismatch, "the vault belongs to key \(userKeyId), not to this person's key")
        }
        guard let text = leaf.json[member]?.stringValue, let signature = Encoding.fromBase64(text), let key = try? SigningPublicKey(bytes: owner),
              key.isValidSignature(signature, for: message(origin: origin, logKey: logKey)) else {
            throw VaultError(.fragmentInvalid, "the vault's genesis leaf carries no valid signature by its person over its origin and log key")
        }
        guard let verifier = try? SignedNote.Verifier(logKey), verifier.name == origin else {
            throw VaultError(.fragmentInvalid, "the genesis leaf's log key is not a verifier key for its origin")
        }
        return Bound(origin: origin, logKey: logKey)
    }
}
