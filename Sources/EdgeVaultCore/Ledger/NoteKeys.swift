/// Ed25519 keys in the C2SP signed-note format (key type 0x01).
///
/// - verifier key: `<name>+<hash>+<base64(0x01 ‖ public key)>`
/// - signer key:   `PRIVATE+KEY+<name>+<hash>+<base64(0x01 ‖ seed)>`
/// - key hash: the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key), as 8 hex digits.
public enum NoteKeys {
    public static let ed25519Type: UInt8 = 0x01

    public static func keyHash(name: String, publicKey: [UInt8]) -> UInt32 {
        let h = Hash.sha256(Array(name.utf8) + [0x0A, ed25519Type] + publicKey)
        return UInt32(h[0]) << 24 | UInt32(h[1]) << 16 | UInt32(h[2]) << 8 | UInt32(h[3])
    }

    static func hex8(_ v: UInt32) -> String { String(v, radix: 16).leftPadded(to: 8) }

    public static func verifierKey(name: String, publicKey: [UInt8]) -> String {
        "\(name)+\(hex8(keyHash(name: name, publicKey: publicKey)))+\(Encoding.base64([ed25519Type] + publicKey))"
    }

    /// The signer key text; it holds the secret seed and is written only to a 0600 file.
    public static func signerKey(name: String, keyPair: SigningKeyPair) -> SecureBytes {
        var seed = keyPair.seed.withUnsafeBytes { Array($0) }
        defer { Sodium.wipe(&seed) }
        var payload = [ed25519Type] + seed
        defer { Sodium.wipe(&payload) }
        var text = Array("PRIVATE+KEY+\(name)+\(hex8(keyHash(name: name, publicKey: keyPair.publicKey.bytes)))+".utf8)
            + Array(Encoding.base64(payload).utf8) + [0x0A]
        return SecureBytes(wiping: &text)
    }

    /// Parses a signer key; checks its hash against the derived public key.
    public static func parseSignerKey(_ text: SecureBytes) throws -> (name: String, keyPair: SigningKeyPair) {
        var bytes = text.withUnsafeBytes { Array($0) }
        defer { Sodium.wipe(&bytes) }
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 { bytes.removeLast() }
        let parts = bytes.split(separator: 0x2B, maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].elementsEqual("PRIVATE".utf8), parts[1].elementsEqual("KEY".utf8),
              var payload = Encoding.fromBase64(String(decoding: parts[4], as: UTF8.self)),
              payload.count == 33, payload[0] == ed25519Type
        else { throw VaultError(.keyFileInvalid, "the log key is not a C2SP Ed25519 signer key") }
        defer { Sodium.wipe(&payload) }
        let name = String(decoding: parts[2], as: UTF8.self)
        var seedBytes = Array(payload[1...])
        let kp = SigningKeyPair(seed: SecureBytes(wiping: &seedBytes))
        guard hex8(keyHash(name: name, publicKey: kp.publicKey.bytes)) == String(decoding: parts[3], as: UTF8.self) else {
            throw VaultError(.keyFileInvalid, "the log key's hash does not match its key")
        }
        return (name, kp)
    }
}
