/// The chunk wire format (docs/PROTOCOL.md §"Segments and chunks", a MUST: organizations decrypt it).
///
/// - plaintext: UTF-8 JSON Lines, `{"t":<ms>,"v":<value>}` per reading;
/// - AEAD: XChaCha20-Poly1305 (IETF) under the segment DEK;
/// - nonce: `seq` as 8 bytes little-endian, then 16 zero bytes;
/// - associated data: `edgevault/chunk/v1:<segmentId>:<seq>`.
public enum ChunkFormat {
    /// Most plaintext bytes a chunk may hold.
    public static let maxPlaintextBytes = 64 * 1024

    public static func nonce(seq: Int64) -> [UInt8] {
        var n = [UInt8](repeating: 0, count: AEAD.nonceBytes)
        let s = UInt64(bitPattern: seq)
        for i in 0..<8 { n[i] = UInt8(truncatingIfNeeded: s >> (8 * UInt64(i))) }
        return n
    }

    public static func associatedData(segmentId: String, seq: Int64) -> [UInt8] {
        Array("edgevault/chunk/v1:\(segmentId):\(seq)".utf8)
    }

    public static func seal(_ plaintext: [UInt8], dek: SecureBytes, segmentId: String, seq: Int64) -> [UInt8] {
        precondition(plaintext.count <= maxPlaintextBytes)
        return AEAD.seal(plaintext, key: dek, nonce: nonce(seq: seq), associatedData: associatedData(segmentId: segmentId, seq: seq))
    }

    /// Decrypts one chunk; any tampering (ciphertext, segment id or seq) fails authentication.
    public static func open(_ ciphertext: [UInt8], dek: SecureBytes, segmentId: String, seq: Int64) throws -> [UInt8] {
        try AEAD.open(ciphertext, key: dek, nonce: nonce(seq: seq), associatedData: associatedData(segmentId: segmentId, seq: seq))
    }

    /// Appends one plaintext line `{"t":…,"v":…}\n`.
    @inline(__always)
    public static func appendLine(t: Int64, value: UnsafeRawBufferPointer, to out: inout [UInt8]) {
        out.append(contentsOf: [0x7B, 0x22, 0x74, 0x22, 0x3A])  // {"t":
        JSONText.appendInt(t, to: &out)
        out.append(contentsOf: [0x2C, 0x22, 0x76, 0x22, 0x3A])  // ,"v":
        out.append(contentsOf: value)
        out.append(contentsOf: [0x7D, 0x0A])  // }\n
    }

    /// Bytes of the line for a value of `valueBytes` bytes at time `t`.
    @inline(__always)
    public static func lineLength(t: Int64, valueBytes: Int) -> Int {
        var digits = 1
        var v = t.magnitude
        while v >= 10 { v /= 10; digits += 1 }
        return 12 + digits + (t < 0 ? 1 : 0) + valueBytes
    }

    /// One decrypted reading: its time and the exact bytes of its JSON value.
    public struct Reading: Sendable, Equatable {
        public var t: Int64
        public var value: [UInt8]
    }

    /// Parses a decrypted chunk's JSON Lines.
    public static func readings(in plaintext: [UInt8]) throws -> [Reading] {
        var out: [Reading] = []
        try plaintext.withUnsafeBytes { raw in
            var lineStart = 0
            while lineStart < raw.count {
                var lineEnd = lineStart
                while lineEnd < raw.count, raw[lineEnd] != 0x0A { lineEnd += 1 }
                if lineEnd > lineStart {
                    var s = JSONScanner(raw, start: lineStart, end: lineEnd)
                    var t: Int64?
                    var value: Range<Int>?
                    try s.scanObject { (key, s) throws(JSONScanner.Failure) in
                        switch key {
                        case "t":
                            let start = s.position
                            guard try s.scanNumber() else { throw s.fail("t is not an integer") }
                            t = Int64(String(decoding: UnsafeRawBufferPointer(rebasing: raw[start..<s.position]), as: UTF8.self))
                        case "v": value = try s.scanValue()
                        default: _ = try s.scanValue()
                        }
                    }
                    guard let t, let value else { throw JSONScanner.Failure(offset: lineStart, reason: "chunk line without t or v") }
                    out.append(Reading(t: t, value: Array(raw[value])))
                }
                lineStart = lineEnd + 1
            }
        }
        return out
    }
}
