import HTTPTypes
import NIOCore

/// The binary page format of `GET /v1/log/leaves/raw` (admin socket): for each leaf, its index
/// (8 bytes big-endian), its length (4 bytes big-endian), its bytes, then the 32-byte leaf hash
/// the database stores. `X-Log-Size` gives the log's size, `X-Next` the next index when more
/// follow. JSON would cost more than hashing for a full verification of a large log.
public enum RawLeafPage {
    public static let sizeHeader = HTTPField.Name("X-Log-Size")!
    public static let nextHeader = HTTPField.Name("X-Next")!

    static func write(_ leaf: VaultStore.StoredLeaf, into buffer: inout ByteBuffer) {
        buffer.writeInteger(UInt64(leaf.index))
        buffer.writeInteger(UInt32(leaf.data.count))
        buffer.writeBytes(leaf.data)
        buffer.writeBytes(leaf.storedHash.count == 32 ? leaf.storedHash : [UInt8](repeating: 0, count: 32))
    }

    /// Parses a page; throws on any truncation.
    public static func parse(_ bytes: [UInt8]) throws -> [VaultStore.StoredLeaf] {
        var out: [VaultStore.StoredLeaf] = []
        var i = 0
        func be(_ at: Int, _ n: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<n { v = v << 8 | UInt64(bytes[at + k]) }
            return v
        }
        while i < bytes.count {
            guard bytes.count - i >= 12 else { throw VaultError(.protocolError, "truncated leaf page") }
            let index = Int64(bitPattern: be(i, 8))
            let length = Int(be(i + 8, 4))
            i += 12
            guard length <= LedgerLeaf.maxBytes, bytes.count - i >= length + 32 else { throw VaultError(.protocolError, "truncated leaf page") }
            out.append(VaultStore.StoredLeaf(index: index, data: Array(bytes[i..<i + length]), storedHash: Array(bytes[i + length..<i + length + 32])))
            i += length + 32
        }
        return out
    }
}
