/// C2SP signed notes with Ed25519 keys (type 0x01): the envelope of every checkpoint.
///
/// A note is its text (UTF-8, ending in a newline), a blank line, then signature lines
/// `— <key name> <base64(key hash ‖ signature)>`. The signature is Ed25519 over the text.
/// `parse` splits any note into its text and all its signature lines (docs/PROTOCOL.md
/// §"Witnesses"): cosignatures (type 0x04) travel in the same notes.
public enum SignedNote {
    public static let maxBytes = 1024 * 1024
    /// At most this many signature lines (as golang.org/x/mod/sumdb/note; the spec asks for ≥ 16).
    public static let maxSignatures = 100
    static let dash = "\u{2014} "

    /// A verifier key `<name>+<hash>+<base64(0x01 ‖ public key)>`.
    public struct Verifier: Sendable, Equatable {
        public let name: String
        public let keyHash: UInt32
        public let publicKey: SigningPublicKey

        public init(_ text: String) throws {
            do {
                (name, keyHash, publicKey) = try NoteKeys.parseVerifierKey(text, type: NoteKeys.ed25519Type)
            } catch {
                throw VaultError(.keyFileInvalid, "not an Ed25519 signed-note verifier key")
            }
        }

        public var text: String { NoteKeys.verifierKey(name: name, publicKey: publicKey.bytes) }

        /// Whether `signature` names this key (name and key hash both match).
        public func matches(_ signature: Signature) -> Bool { signature.name == name && signature.keyHash == keyHash }

        /// Whether `signature` is this key's valid signature over `text`.
        public func isValid(_ signature: Signature, text: String) -> Bool {
            publicKey.isValidSignature(signature.signature, for: Array(text.utf8))
        }
    }

    /// One signature line: the key name, the 4-byte key hash and the signature bytes after it.
    public struct Signature: Sendable, Equatable {
        public let name: String
        public let keyHash: UInt32
        /// The decoded blob: key hash ‖ signature.
        public let blob: [UInt8]

        public init(name: String, blob: [UInt8]) throws {
            guard NoteKeys.isValidName(name), blob.count >= 5 else { throw VaultError(.protocolError, "malformed signature line") }
            self.name = name
            self.blob = blob
            keyHash = UInt32(blob[0]) << 24 | UInt32(blob[1]) << 16 | UInt32(blob[2]) << 8 | UInt32(blob[3])
        }

        /// Parses `— <name> <base64>` (without its newline).
        public init(line: some StringProtocol) throws {
            guard line.hasPrefix(dash) else { throw VaultError(.protocolError, "malformed signature line") }
            let rest = line.dropFirst(dash.count)
            guard let space = rest.firstIndex(of: " "), let blob = Encoding.fromBase64(rest[rest.index(after: space)...]) else {
                throw VaultError(.protocolError, "malformed signature line")
            }
            try self.init(name: String(rest[..<space]), blob: blob)
        }

        /// The bytes after the key hash.
        public var signature: [UInt8] { Array(blob[4...]) }

        /// The line with its newline.
        public var line: String { SignedNote.line(name: name, blob: blob) }
    }

    /// A note split into its text and every signature line, in order.
    public struct Parsed: Sendable, Equatable {
        public var text: String
        public var signatures: [Signature]

        /// The note again: text, blank line, signature lines.
        public var note: String { text + "\n" + signatures.map(\.line).joined() }
    }

    static func line(name: String, blob: [UInt8]) -> String { dash + name + " " + Encoding.base64(blob) + "\n" }

    /// Splits a note (≤ `maxBytes`, UTF-8, no control character but newline) into its text
    /// (up to and including the newline before the last blank line) and 1…`maxSignatures`
    /// well-formed signature lines. Verifies nothing.
    public static func parse(_ note: String) throws -> Parsed {
        let bytes = Array(note.utf8)
        guard bytes.count <= maxBytes, note.hasSuffix("\n"), !bytes.contains(where: { $0 < 0x20 && $0 != 0x0A || $0 == 0x7F })
        else { throw VaultError(.protocolError, "malformed signed note") }
        // The text ends at the last blank line; signature lines follow it.
        var cut = -1
        var i = bytes.count - 2
        while i >= 0 {
            if bytes[i] == 0x0A && bytes[i + 1] == 0x0A { cut = i; break }
            i -= 1
        }
        guard cut >= 0 else { throw VaultError(.protocolError, "malformed signed note: no signatures") }
        let sigLines = bytes[(cut + 2)...].split(separator: 0x0A, omittingEmptySubsequences: false).dropLast()
        guard !sigLines.isEmpty, sigLines.count <= maxSignatures else { throw VaultError(.protocolError, "malformed signed note: signature lines") }
        let signatures = try sigLines.map { try Signature(line: String(decoding: $0, as: UTF8.self)) }
        return Parsed(text: String(decoding: bytes[...cut], as: UTF8.self), signatures: signatures)
    }

    /// Signs `text` (which must end in a newline) as `name`.
    public static func sign(text: String, name: String, keyPair: SigningKeyPair) -> String {
        precondition(text.hasSuffix("\n"))
        let hash = NoteKeys.keyHash(name: name, publicKey: keyPair.publicKey.bytes)
        let signature = keyPair.sign(Array(text.utf8))
        let blob = [UInt8(hash >> 24), UInt8(hash >> 16 & 0xFF), UInt8(hash >> 8 & 0xFF), UInt8(hash & 0xFF)] + signature
        return text + "\n" + line(name: name, blob: blob)
    }

    /// The note with `lines` (whole signature lines, each ending in a newline, e.g. a
    /// witness's add-checkpoint answer) appended; a line identical to one already there is
    /// skipped. The result must still parse (≤ `maxSignatures` lines, ≤ `maxBytes`).
    public static func appending(_ lines: String, to note: String) throws -> String {
        var parsed = try parse(note)
        guard lines.hasSuffix("\n") || lines.isEmpty else { throw VaultError(.protocolError, "malformed signature line") }
        for l in lines.split(separator: "\n", omittingEmptySubsequences: false).dropLast() {
            let sig = try Signature(line: l)
            if !parsed.signatures.contains(sig) { parsed.signatures.append(sig) }
        }
        let out = parsed.note
        _ = try parse(out)
        return out
    }

    /// The signatures in `parsed` by keys that `matches` names, each checked with `isValid`:
    /// a known key's bad signature fails the whole note (signed-note); unknown keys are ignored.
    static func verified<K>(_ parsed: Parsed, keys: [K], matches: (K, Signature) -> Bool, isValid: (K, Signature) -> Bool) throws -> [(K, Signature)] {
        var out: [(K, Signature)] = []
        for sig in parsed.signatures {
            guard let k = keys.first(where: { matches($0, sig) }) else { continue }
            guard isValid(k, sig) else { throw VaultError(.protocolError, "signature by \(sig.name) does not verify") }
            out.append((k, sig))
        }
        return out
    }

    /// The text of a note with at least one valid signature by one of `verifiers`;
    /// signatures by unknown keys are ignored, a bad signature by a known key fails.
    public static func open(_ note: String, verifiers: [Verifier]) throws -> String {
        let parsed = try parse(note)
        let ok = try verified(parsed, keys: verifiers, matches: { $0.matches($1) }, isValid: { $0.isValid($1, text: parsed.text) })
        guard !ok.isEmpty else { throw VaultError(.protocolError, "the note has no signature by a known key") }
        return parsed.text
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
        // Extension lines (after the root) must not be empty (C2SP tlog-checkpoint): a parser
        // that splits at the first blank line would read another note.
        guard lines.count >= 4, let size = Int64(lines[1]), size >= 0, String(size) == lines[1],
              let root = Encoding.fromBase64(lines[2]), root.count == 32, !lines[0].isEmpty,
              lines.last?.isEmpty == true, !lines[3..<(lines.count - 1)].contains(where: \.isEmpty)
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
