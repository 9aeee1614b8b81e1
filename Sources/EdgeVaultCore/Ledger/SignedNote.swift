/// C2SP signed notes with Ed25519 keys (type 0x01): the envelope of every checkpoint.
///
/// A note is its text (UTF-8, ending in a newline), a blank line, then signature lines
/// `— <key name> <base64(key hash ‖ signature)>`. The signature is Ed25519 over the text.
public enum SignedNote {
    public static let maxBytes = 1024 * 1024
    static let dash = "\u{2014} "

    /// A verifier key `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    public struct Verifier: Sendable, Equatable {
        public let name: String
        public let keyHash: UInt32
        public let publicKey: SigningPublicKey

        public init(_ text: String) throws {
            let parts = text.split(separator: "+", maxSplits: 2, omittingEmptySubsequences: false)
            guard parts.count == 3, !parts[0].isEmpty, parts[1].count == 8, let hash = UInt32(parts[1], radix: 16),
                  let raw = Encoding.fromBase64(parts[2]), raw.count == 33, raw[0] == NoteKeys.ed25519Type,
                  let pk = try? SigningPublicKey(bytes: Array(raw[1...])),
                  NoteKeys.keyHash(name: String(parts[0]), publicKey: pk.bytes) == hash
            else { throw VaultError(.keyFileInvalid, "not an Ed25519 signed-note verifier key") }
            name = String(parts[0])
            keyHash = hash
            publicKey = pk
        }

        public var text: String { NoteKeys.verifierKey(name: name, publicKey: publicKey.bytes) }
    }

    /// Signs `text` (which must end in a newline) as `name`.
    public static func sign(text: String, name: String, keyPair: SigningKeyPair) -> String {
        precondition(text.hasSuffix("\n"))
        let hash = NoteKeys.keyHash(name: name, publicKey: keyPair.publicKey.bytes)
        let signature = keyPair.sign(Array(text.utf8))
        let blob = [UInt8(hash >> 24), UInt8(hash >> 16 & 0xFF), UInt8(hash >> 8 & 0xFF), UInt8(hash & 0xFF)] + signature
        return text + "\n" + dash + name + " " + Encoding.base64(blob) + "\n"
    }

    /// The text of a note with at least one valid signature by one of `verifiers`;
    /// signatures by unknown keys are ignored, a bad signature by a known key fails.
    public static func open(_ note: String, verifiers: [Verifier]) throws -> String {
        let bytes = Array(note.utf8)
        guard bytes.count <= maxBytes, note.hasSuffix("\n") else { throw VaultError(.protocolError, "malformed signed note") }
        // The text ends at the last blank line; signature lines follow it.
        var cut = -1
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { cut = i; break }
            i -= 1
        }
        guard cut >= 0 else { throw VaultError(.protocolError, "malformed signed note: no signatures") }
        let text = String(decoding: bytes[...cut], as: UTF8.self)
        let sigLines = String(decoding: bytes[(cut + 2)...], as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false).dropLast()
        guard !sigLines.isEmpty, sigLines.count <= 100 else { throw VaultError(.protocolError, "malformed signed note: signature lines") }
        var verified = false
        for line in sigLines {
            guard line.hasPrefix(dash) else { throw VaultError(.protocolError, "malformed signature line") }
            let rest = line.dropFirst(dash.count)
            guard let space = rest.lastIndex(of: " ") else { throw VaultError(.protocolError, "malformed signature line") }
            let name = String(rest[..<space])
            guard let blob = Encoding.fromBase64(rest[rest.index(after: space)...]), blob.count >= 5 else {
                throw VaultError(.protocolError, "malformed signature line")
            }
            let hash = UInt32(blob[0]) << 24 | UInt32(blob[1]) << 16 | UInt32(blob[2]) << 8 | UInt32(blob[3])
            guard let v = verifiers.first(where: { $0.name == name && $0.keyHash == hash }) else { continue }
            guard v.publicKey.isValidSignature(Array(blob[4...]), for: Array(text.utf8)) else {
                throw VaultError(.protocolError, "signature by \(name) does not verify")
            }
            verified = true
        }
        guard verified else { throw VaultError(.protocolError, "the note has no signature by a known key") }
        return text
    }
}

/// A C2SP tlog-checkpoint: origin, tree size and root hash, signed as a note.
public struct Checkpoint: Sendable, Equatable {
    public var origin: String
    public var size: Int64
    public var root: Merkle.Hash

    public init(origin: String, size: Int64, root: Merkle.Hash) {
        self.origin = origin
        self.size = size
        self.root = root
    }

    /// The note text: `<origin>\n<size>\n<base64 root>\n`.
    public var text: String { "\(origin)\n\(size)\n\(Encoding.base64(root))\n" }

    /// Parses a checkpoint's text (extension lines after the root are allowed and ignored).
    public init(text: String) throws {
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        guard lines.count >= 4, let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
              let root = Encoding.fromBase64(lines[2]), root.count == 32, !lines[0].isEmpty
        else { throw VaultError(.protocolError, "malformed checkpoint") }
        self.init(origin: String(lines[0]), size: size, root: root)
    }

    /// Verifies a signed checkpoint with `verifier` and parses it.
    public static func open(_ note: String, verifier: SignedNote.Verifier) throws -> Checkpoint {
        let cp = try Checkpoint(text: try SignedNote.open(note, verifiers: [verifier]))
        guard cp.origin == verifier.name else { throw VaultError(.protocolError, "checkpoint origin \(cp.origin) is not \(verifier.name)") }
        return cp
    }
}
