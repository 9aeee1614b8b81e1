/// Ed25519 keys in the C2SP signed-note format, for any signature type byte: 0x01 (a log's
/// note signatures) and 0x04 (tlog-cosignature v1, a witness's cosignatures,
/// docs/PROTOCOL.md §"Witnesses").
///
/// - verifier key: `<name>+<hash>+<base64(type ‖ public key)>`
/// - signer key:   `PRIVATE+KEY+<name>+<hash>+<base64(type ‖ seed)>`
/// - key hash: the first 4 bytes of SHA-256(name ‖ "\n" ‖ type ‖ public key), as 8 hex digits.
public enum NoteKeys {
    public static let ed25519Type: UInt8 = 0x01
    /// c2sp.org/tlog-cosignature: timestamped Ed25519 cosignatures.
    public static let cosignatureType: UInt8 = 0x04

    public static func keyHash(name: String, type: UInt8 = ed25519Type, publicKey: [UInt8]) -> UInt32 {
        let h = Hash.sha256(Array(name.utf8) + [0x0A, type] + publicKey)
        return UInt32(h[0]) << 24 | UInt32(h[1]) << 16 | UInt32(h[2]) << 8 | UInt32(h[3])
    }

    static func hex8(_ v: UInt32) -> String { String(v, radix: 16).leftPadded(to: 8) }

    public static func verifierKey(name: String, type: UInt8 = ed25519Type, publicKey: [UInt8]) -> String {
        "\(name)+\(hex8(keyHash(name: name, type: type, publicKey: publicKey)))+\(Encoding.base64([type] + publicKey))"
    }

    /// A key name as signed-note requires: non-empty, valid UTF-8 (a Swift string is), no
    /// Unicode space, no `+`, and (EdgeVault's own limit) no control character, ≤ 256 bytes.
    public static func isValidName(_ name: some StringProtocol) -> Bool {
        !name.isEmpty && name.utf8.count <= 256
            && !name.unicodeScalars.contains { $0 == "+" || $0.properties.isWhitespace || $0.value < 0x20 || $0.value == 0x7F }
    }

    /// Parses a verifier key of `type` with an Ed25519 public key; checks the key hash.
    public static func parseVerifierKey(_ text: some StringProtocol, type: UInt8) throws -> (name: String, keyHash: UInt32, publicKey: SigningPublicKey) {
        let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, isValidName(parts[0]), parts[1].count == 8, let hash = UInt32(parts[1], radix: 16),
              let raw = Encoding.fromBase64(parts[2]), raw.count == 33, raw[0] == type,
              let pk = try? SigningPublicKey(bytes: Array(raw[1...])),
              keyHash(name: String(parts[0]), type: type, publicKey: pk.bytes) == hash
        else { throw VaultError(.keyFileInvalid, "not an Ed25519 verifier key of signature type 0x0\(type)") }
        return (String(parts[0]), hash, pk)
    }

    /// The signer key text; it holds the secret seed and is written only to a 0600 file.
    public static func signerKey(name: String, type: UInt8 = ed25519Type, keyPair: SigningKeyPair) -> SecureBytes {
        var seed = keyPair.seed.withUnsafeBytes { Array($0) }
        defer { Sodium.wipe(&seed) }
        var payload = [type] + seed
        defer { Sodium.wipe(&payload) }
        var text = Array("PRIVATE+KEY+\(name)+\(hex8(keyHash(name: name, type: type, publicKey: keyPair.publicKey.bytes)))+".utf8)
            + Array(Encoding.base64(payload).utf8) + [0x0A]
        return SecureBytes(wiping: &text)
    }

    /// Parses a signer key of `type`; checks its hash against the derived public key.
    public static func parseSignerKey(_ text: SecureBytes, type: UInt8 = ed25519Type) throws -> (name: String, keyPair: SigningKeyPair) {
        let what = type == ed25519Type ? "the log key" : "the witness key"
        var bytes = text.withUnsafeBytes { Array($0) }
        defer { Sodium.wipe(&bytes) }
        while let last = bytes.last, last == 0x0A || last == 0x0D || last == 0x20 { bytes.removeLast() }
        let parts = bytes.split(separator: 0x2B, maxSplits: 4, omittingEmptySubsequences: false)
        guard parts.count == 5, parts[0].elementsEqual("PRIVATE".utf8), parts[1].elementsEqual("KEY".utf8),
              var payload = Encoding.fromBase64(String(decoding: parts[4], as: UTF8.self)),
              payload.count == 33, payload[0] == type
        else { throw VaultError(.keyFileInvalid, "\(what) is not a C2SP Ed25519 signer key" + (type == ed25519Type ? "" : " of type 0x0\(type)")) }
        defer { Sodium.wipe(&payload) }
        let name = String(decoding: parts[2], as: UTF8.self)
        guard isValidName(name) else { throw VaultError(.keyFileInvalid, "\(what) has an invalid key name") }
        var seedBytes = Array(payload[1...])
        let kp = SigningKeyPair(seed: SecureBytes(wiping: &seedBytes))
        guard hex8(keyHash(name: name, type: type, publicKey: kp.publicKey.bytes)) == String(decoding: parts[3], as: UTF8.self) else {
            throw VaultError(.keyFileInvalid, "\(what)'s hash does not match its key")
        }
        return (name, kp)
    }
}
