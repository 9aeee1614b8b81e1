/// c2sp.org/tlog-cosignature, `cosignature/v1` with Ed25519 (signature type 0x04):
/// docs/PROTOCOL.md §"Witnesses".
///
/// - vkey: `<name>+<hash8>+<base64(0x04 ‖ public key)>`, key ID = SHA-256(name ‖ "\n" ‖ 0x04 ‖ pk)[:4]
/// - signed message: `cosignature/v1\ntime <t>\n` ‖ the checkpoint's whole note text
///   (extension lines included, signature lines not)
/// - signature line: `— <name> base64(key ID ‖ u64 big-endian time ‖ 64-byte Ed25519 signature)`
public enum Cosignature {
    /// Key ID (4) ‖ timestamp (8) ‖ Ed25519 signature (64).
    public static let blobSize = 76
    /// The largest timestamp the spec allows (2^63 − 1).
    public static let maxTime = UInt64(Int64.max)

    /// The bytes a cosigner signs over `checkpointText` at `time` (POSIX seconds).
    public static func message(checkpointText: String, time: UInt64) -> [UInt8] {
        Array("cosignature/v1\ntime \(time)\n".utf8) + Array(checkpointText.utf8)
    }

    /// The timestamp of a cosignature blob (key ID ‖ time ‖ signature), unverified; nil when
    /// the blob is not 76 bytes or the time is past 2^63 − 1.
    public static func time(of blob: [UInt8]) -> UInt64? {
        guard blob.count == blobSize else { return nil }
        let t = blob[4..<12].reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return t <= maxTime ? t : nil
    }
}

/// A witness's cosigning key: a name (a schema-less URL) and an Ed25519 key pair.
public struct Cosigner: Sendable {
    public let name: String
    public let keyPair: SigningKeyPair

    public init(name: String, keyPair: SigningKeyPair) throws {
        guard NoteKeys.isValidName(name) else { throw VaultError(.keyFileInvalid, "invalid cosigner name") }
        self.name = name
        self.keyPair = keyPair
    }

    /// Reads the witness signer-key file text: `PRIVATE+KEY+<name>+<hash8>+base64(0x04 ‖ seed)`
    /// (the signed-note signer-key form with type 0x04, as transparency-dev/formats reads it).
    public init(signerKey: SecureBytes) throws {
        let (name, kp) = try NoteKeys.parseSignerKey(signerKey, type: NoteKeys.cosignatureType)
        try self.init(name: name, keyPair: kp)
    }

    /// The signer-key file text (a secret: write it only to a 0600 file).
    public var signerKey: SecureBytes { NoteKeys.signerKey(name: name, type: NoteKeys.cosignatureType, keyPair: keyPair) }

    public var verifier: CosignatureVerifier { CosignatureVerifier(name: name, publicKey: keyPair.publicKey) }

    /// The signature line (with its newline) cosigning the checkpoint note text `checkpointText`
    /// at `time` (POSIX seconds, 1…2^63−1: the witness protocol forbids a zero timestamp).
    public func cosign(checkpointText: String, time: UInt64) -> String {
        precondition(time > 0 && time <= Cosignature.maxTime && checkpointText.hasSuffix("\n"))
        let id = verifier.keyHash
        var blob = [UInt8(id >> 24), UInt8(id >> 16 & 0xFF), UInt8(id >> 8 & 0xFF), UInt8(id & 0xFF)]
        for shift in stride(from: 56, through: 0, by: -8) { blob.append(UInt8(time >> UInt64(shift) & 0xFF)) }
        blob += keyPair.sign(Cosignature.message(checkpointText: checkpointText, time: time))
        return SignedNote.line(name: name, blob: blob)
    }
}

/// Verifies one cosigner's `cosignature/v1` signatures.
public struct CosignatureVerifier: Sendable, Equatable {
    public let name: String
    public let keyHash: UInt32
    public let publicKey: SigningPublicKey

    public init(name: String, publicKey: SigningPublicKey) {
        precondition(NoteKeys.isValidName(name))
        self.name = name
        self.publicKey = publicKey
        keyHash = NoteKeys.keyHash(name: name, type: NoteKeys.cosignatureType, publicKey: publicKey.bytes)
    }

    /// Reads a type-0x04 vkey; a 0x01 (or any other type) vkey is refused.
    public init(_ vkey: String) throws {
        (name, keyHash, publicKey) = try NoteKeys.parseVerifierKey(vkey, type: NoteKeys.cosignatureType)
    }

    public var text: String { NoteKeys.verifierKey(name: name, type: NoteKeys.cosignatureType, publicKey: publicKey.bytes) }

    /// Whether `signature` names this key (name and key ID both match).
    public func matches(_ signature: SignedNote.Signature) -> Bool { signature.name == name && signature.keyHash == keyHash }

    /// Checks a cosignature blob (key ID ‖ time ‖ signature) over `checkpointText`; returns its time.
    public func verify(blob: [UInt8], checkpointText: String) throws -> UInt64 {
        guard let time = Cosignature.time(of: blob) else { throw VaultError(.protocolError, "cosignature by \(name) is not 76 bytes with a time below 2^63") }
        guard blob.prefix(4).elementsEqual([UInt8(keyHash >> 24), UInt8(keyHash >> 16 & 0xFF), UInt8(keyHash >> 8 & 0xFF), UInt8(keyHash & 0xFF)])
        else { throw VaultError(.protocolError, "cosignature is not by \(name)'s key") }
        guard publicKey.isValidSignature(Array(blob[12...]), for: Cosignature.message(checkpointText: checkpointText, time: time)) else {
            throw VaultError(.protocolError, "cosignature by \(name) does not verify")
        }
        return time
    }

    /// Checks one signature line (`— <name> <base64>`, newline optional) over `checkpointText`.
    public func verify(line: String, checkpointText: String) throws -> UInt64 {
        let sig = try SignedNote.Signature(line: line.hasSuffix("\n") ? String(line.dropLast()) : line)
        guard sig.name == name else { throw VaultError(.protocolError, "cosignature is by \(sig.name), not \(name)") }
        return try verify(blob: sig.blob, checkpointText: checkpointText)
    }

    /// The times of this key's valid cosignatures in a parsed note (empty when it has none);
    /// a line naming this key whose signature fails throws.
    public func verify(_ parsed: SignedNote.Parsed) throws -> [UInt64] {
        try parsed.signatures.filter(matches).map { try verify(blob: $0.blob, checkpointText: parsed.text) }
    }
}
