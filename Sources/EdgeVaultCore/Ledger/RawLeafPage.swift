import NIOCore

/// The binary page format of `GET /v1/log/leaves/raw` (admin socket): for each leaf, its index
/// (8 bytes big-endian), its length (4 bytes big-endian), its bytes, then the 32-byte leaf hash
/// the database stores. `X-Log-Size` gives the log's size, `X-Next` the next index when more
/// follow. JSON would cost more than hashing for a full verification of a large log.
public enum RawLeafPage {
    public static let sizeHeader = "X-Log-Size"
    public static let nextHeader = "X-Next"

    /// Appends one leaf record (a missing stored hash is written as zeros, so it never matches).
    package static func write<D: Collection<UInt8>, H: Collection<UInt8>>(index: Int64, data: D, storedHash: H, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt64(bitPattern: index))
        buffer.writeInteger(UInt32(data.count))
        buffer.writeBytes(data)
        if storedHash.count == 32 { buffer.writeBytes(storedHash) } else { buffer.writeRepeatingByte(0, count: 32) }
    }


    /// Where each leaf of a page lies in the page's bytes (no copies).
    public struct Entry: Sendable {
        public var index: Int64
        public var data: Range<Int>
        public var hash: Range<Int>
    }

    /// Locates the leaves of a page; throws on any truncation.
    public static func entries(_ bytes: [UInt8]) throws -> [Entry] {
        var out: [Entry] = []
        var i = 0
        try bytes.withUnsafeBytes { raw in
            func be(_ at: Int, _ n: Int) -> UInt64 {
                var v: UInt64 = 0
                for k in 0..<n { v = v << 8 | UInt64(raw[at + k]) }
                return v
            }
            while i < raw.count {
                guard raw.count - i >= 12 else { throw VaultError(.protocolError, "truncated leaf page") }
                let index = Int64(bitPattern: be(i, 8))
                let length = Int(be(i + 8, 4))
                i += 12
                guard length <= LedgerLeaf.maxBytes, raw.count - i >= length + 32 else { throw VaultError(.protocolError, "truncated leaf page") }
                out.append(Entry(index: index, data: i..<i + length, hash: i + length..<i + length + 32))
                i += length + 32
            }
        }
        return out
    }
}
