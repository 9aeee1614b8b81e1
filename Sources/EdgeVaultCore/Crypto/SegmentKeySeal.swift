/// A segment's DEK sealed to the person's box key together with the facts that scope it
/// (docs/PROTOCOL.md §"Segment keys sealed to the person"): the segment id, its stream and its
/// bucket. The person's CLI opens it, and before re-sealing the DEK for an organization checks
/// those facts against the request it approves, so a daemon that lies about which segment a
/// key belongs to cannot turn one approval into the keys of other streams or buckets.
///
/// Plaintext (bound format, version 2), all integers big-endian:
///
/// | bytes | field |
/// | --- | --- |
/// | 8 | `EVSKEY02` (ASCII) |
/// | 8 | bucket start, ms since the Unix epoch (int64) |
/// | 8 | bucket end, ms (int64) |
/// | 26 | segment id (lowercase base32, ASCII) |
/// | 2 | stream name length L (uint16, 1…1024) |
/// | L | stream name, UTF-8 |
/// | 32 | the DEK |
///
/// A plaintext of exactly 32 bytes is the earlier format (the DEK alone): it binds nothing and
/// is never re-sealed for an organization until the person's CLI has upgraded it.
/// Keys re-sealed to an organization's delivery key stay the bare DEK (organizations' clients
/// depend on that format).
public enum SegmentKeySeal {
    public static let magic: [UInt8] = Array("EVSKEY02".utf8)
    public static let dekBytes = 32
    static let idBytes = 26
    static let maxStreamBytes = 1024

    /// The facts a sealed key is bound to.
    public struct Bound: Sendable, Equatable, CustomStringConvertible {
        public var segment: String
        public var stream: String
        public var start: Int64
        public var end: Int64

        public init(segment: String, stream: String, start: Int64, end: Int64) {
            self.segment = segment
            self.stream = stream
            self.start = start
            self.end = end
        }

        public var description: String {
            "segment \(segment) of \(stream) [\(Timestamp.rfc3339(milliseconds: start)), \(Timestamp.rfc3339(milliseconds: end)))"
        }
    }

    /// An opened sealed key: bound to its facts, or of the earlier unbound format.
    public enum Opened {
        case bound(Bound, dek: SecureBytes)
        case unbound(dek: SecureBytes)

        public var dek: SecureBytes {
            switch self {
            case .bound(_, let dek), .unbound(let dek): return dek
            }
        }
    }

    /// The length of a sealed key of the earlier, unbound format.
    public static var unboundSealedLength: Int { dekBytes + SealedBox.overhead }

    /// Seals `dek` bound to `bound` to `publicKey` (the person's box key).
    public static func seal(_ dek: SecureBytes, bound: Bound, to publicKey: [UInt8]) throws -> [UInt8] {
        let id = Array(bound.segment.utf8), stream = Array(bound.stream.utf8)
        guard dek.count == dekBytes, id.count == idBytes, !stream.isEmpty, stream.count <= maxStreamBytes else {
            throw CryptoError.invalidKey
        }
        var header = magic
        for v in [bound.start, bound.end] { withUnsafeBytes(of: v.bigEndian) { header.append(contentsOf: $0) } }
        header += id
        header += [UInt8(stream.count >> 8), UInt8(stream.count & 0xFF)] + stream
        let plaintext = SecureBytes(count: header.count + dekBytes)
        plaintext.withUnsafeMutableBytes { out in
            header.withUnsafeBytes { out.baseAddress!.copyMemory(from: $0.baseAddress!, byteCount: header.count) }
            dek.withUnsafeBytes { (out.baseAddress! + header.count).copyMemory(from: $0.baseAddress!, byteCount: dekBytes) }
        }
        return try SealedBox.seal(plaintext, to: publicKey)
    }

    /// Opens a sealed key with the person's box key pair. Throws `CryptoError` when it does not
    /// open or its plaintext is neither format.
    public static func open(_ sealed: [UInt8], keyPair: BoxKeyPair) throws -> Opened {
        let plaintext = try SealedBox.open(sealed, keyPair: keyPair)
        if plaintext.count == dekBytes { return .unbound(dek: plaintext) }
        let fixed = magic.count + 16 + idBytes + 2
        guard plaintext.count > fixed + dekBytes else { throw CryptoError.authenticationFailed }
        let header: [UInt8] = plaintext.withUnsafeBytes { Array($0[0..<(plaintext.count - dekBytes)]) }
        guard Array(header[0..<magic.count]) == magic else { throw CryptoError.authenticationFailed }
        func int64(_ at: Int) -> Int64 { header[at..<(at + 8)].reduce(Int64(0)) { $0 << 8 | Int64($1) } }
        let start = int64(8), end = int64(16)
        guard start >= 0, start < end, end <= Timestamp.maxMilliseconds + 1 else { throw CryptoError.authenticationFailed }
        let id = header[24..<(24 + idBytes)]
        let length = Int(header[50]) << 8 | Int(header[51])
        guard length >= 1, length <= maxStreamBytes, header.count == fixed + length,
              id.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x32 && $0 <= 0x37) }),
              let stream = String(validating: header[fixed...], as: UTF8.self)
        else { throw CryptoError.authenticationFailed }
        let bound = Bound(segment: String(decoding: id, as: UTF8.self), stream: stream, start: start, end: end)
        return .bound(bound, dek: plaintext.slice((plaintext.count - dekBytes)..<plaintext.count))
    }
}
