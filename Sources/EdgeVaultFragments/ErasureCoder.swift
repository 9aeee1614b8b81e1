import CISAL
import EdgeVaultCore

/// Reed–Solomon k-of-n erasure coding through Intel ISA-L (codec `rs-isal/1`,
/// docs/PROTOCOL.md §"Fragments").
///
/// `encode` cuts the bytes into `k` data shares of `ceil(size / k)` bytes (the last one padded
/// with zeros) and adds `n − k` parity shares of the same length; any `k` of the `n` shares
/// give the bytes back. The code is systematic: shares `0..<k` are the data itself. The
/// encoding matrix is ISA-L's Cauchy matrix (`gf_gen_cauchy1_matrix`: identity on top,
/// `1 / (i ⊕ j)` below), every k×k submatrix of which is invertible, so every k-subset decodes.
/// All Galois-field arithmetic is ISA-L's.
///
/// The original size is not inside the shares: the caller carries it (beside a SHA-256 of the
/// bytes). A share altered in storage or on the wire is not detected here: it decodes to other
/// bytes, so the caller checks the result against its SHA-256 and, on a mismatch, tries
/// another subset of shares.
///
/// Limits: 1 ≤ k < n ≤ 255.
public struct ErasureCoder: Sendable, Equatable {
    /// The codec's name in the protocol.
    public static let codec = "rs-isal/1"
    /// The default policy: any 3 of 8 shares (5 peers may be lost).
    public static let `default` = try! ErasureCoder(k: 3, n: 8)
    /// The largest share count: ISA-L's field has 256 elements and the Cauchy rows need
    /// distinct indices.
    public static let maxShares = 255

    /// Data shares (shares needed to decode).
    public let k: Int
    /// All shares.
    public let n: Int
    /// The n×k encoding matrix, row-major: rows `0..<k` are the identity.
    private let matrix: [UInt8]
    /// ISA-L's expanded tables for the parity rows (32 bytes per coefficient).
    private let parityTables: [UInt8]

    public init(k: Int, n: Int) throws {
        guard k >= 1, k < n, n <= Self.maxShares else {
            throw VaultError(.badRequest, "erasure code \(k)-of-\(n): needs 1 ≤ k < n ≤ \(Self.maxShares)")
        }
        self.k = k
        self.n = n
        var m = [UInt8](repeating: 0, count: n * k)
        gf_gen_cauchy1_matrix(&m, Int32(n), Int32(k))
        self.matrix = m
        var tables = [UInt8](repeating: 0, count: 32 * k * (n - k))
        m.withUnsafeMutableBufferPointer { mp in
            ec_init_tables(Int32(k), Int32(n - k), mp.baseAddress! + k * k, &tables)
        }
        self.parityTables = tables
    }

    /// The length of every share for `size` bytes: `ceil(size / k)`.
    public func shareLength(forSize size: Int) -> Int {
        precondition(size >= 0)
        return PeerShareProtocol.shareLength(size: size, k: k)
    }

    /// The `n` shares of `data`, each `shareLength(forSize: data.count)` bytes; share `i` is
    /// the one peer `i` keeps.
    public func encode(_ data: [UInt8]) -> [[UInt8]] {
        let len = shareLength(forSize: data.count)
        var shares = (0..<k).map { i -> [UInt8] in
            let start = min(i * len, data.count), end = min(start + len, data.count)
            var share = Array(data[start..<end])
            share.append(contentsOf: repeatElement(0, count: len - share.count))
            return share
        }
        guard len > 0 else { return shares + Array(repeating: [], count: n - k) }
        var parity = [[UInt8]](repeating: [UInt8](repeating: 0, count: len), count: n - k)
        Self.run(tables: parityTables, len: len, inputs: &shares, outputs: &parity)
        return shares + parity
    }

    /// The original bytes from any `k` shares (more are allowed: the lowest indices are used).
    ///
    /// - Parameters:
    ///   - shares: share index (`0..<n`) → share bytes, all of one length.
    ///   - size: the original byte count, carried by the caller.
    /// - Throws: `VaultError(.fragmentInvalid)` naming what is wrong: fewer than `k` shares,
    ///   an index out of range, or a length other than `shareLength(forSize: size)`.
    public func decode(shares: [Int: [UInt8]], size: Int) throws -> [UInt8] {
        guard size >= 0 else { throw VaultError(.fragmentInvalid, "fragments: a size of \(size) bytes") }
        if let bad = shares.keys.sorted().first(where: { !(0..<n).contains($0) }) {
            throw VaultError(.fragmentInvalid, "fragments: share index \(bad) is outside 0..<\(n) (\(k)-of-\(n))")
        }
        guard shares.count >= k else {
            throw VaultError(.fragmentInvalid, "fragments: \(shares.count) share(s) given, \(k) of \(n) needed")
        }
        let len = shareLength(forSize: size)
        if let (index, share) = shares.sorted(by: { $0.key < $1.key }).first(where: { $0.value.count != len }) {
            throw VaultError(
                .fragmentInvalid,
                "fragments: share \(index) is \(share.count) bytes; \(size) bytes in \(k)-of-\(n) shares are \(len) each")
        }
        let chosen = shares.keys.sorted().prefix(k)
        var data = (0..<k).map { shares[$0] ?? [] }
        let missing = (0..<k).filter { shares[$0] == nil }
        if !missing.isEmpty, len > 0 {
            // Rows of the surviving shares form a k×k matrix B with B·data = survivors; the
            // missing data rows are those rows of B⁻¹ applied to the survivors.
            var b = [UInt8](), inverse = [UInt8](repeating: 0, count: k * k)
            for row in chosen { b += matrix[row * k..<(row + 1) * k] }
            guard gf_invert_matrix(&b, &inverse, Int32(k)) == 0 else {
                // Cannot happen with a Cauchy matrix; kept as an error, not a crash.
                throw VaultError(.internalError, "fragments: the \(k)×\(k) decoding matrix is singular")
            }
            var rows = [UInt8]()
            for i in missing { rows += inverse[i * k..<(i + 1) * k] }
            var tables = [UInt8](repeating: 0, count: 32 * k * missing.count)
            ec_init_tables(Int32(k), Int32(missing.count), &rows, &tables)
            var inputs = chosen.map { shares[$0]! }
            var outputs = [[UInt8]](repeating: [UInt8](repeating: 0, count: len), count: missing.count)
            Self.run(tables: tables, len: len, inputs: &inputs, outputs: &outputs)
            for (i, row) in zip(missing, outputs) { data[i] = row }
        }
        var out = [UInt8]()
        out.reserveCapacity(k * len)
        for share in data { out += share }
        if out.count > size { out.removeLast(out.count - size) }
        return out
    }

    /// `ec_encode_data` over Swift arrays: `outputs[r] = Σ_j coef(r, j) · inputs[j]`.
    private static func run(tables: [UInt8], len: Int, inputs: inout [[UInt8]], outputs: inout [[UInt8]]) {
        let k = inputs.count, rows = outputs.count
        let inPointers = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: k)
        let outPointers = UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>.allocate(capacity: rows)
        let inBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: k * len)
        let outBuffer = UnsafeMutablePointer<UInt8>.allocate(capacity: rows * len)
        defer {
            inPointers.deallocate(); outPointers.deallocate()
            inBuffer.deallocate(); outBuffer.deallocate()
        }
        for j in 0..<k {
            inputs[j].withUnsafeBufferPointer { (inBuffer + j * len).initialize(from: $0.baseAddress!, count: len) }
            inPointers[j] = inBuffer + j * len
        }
        outBuffer.initialize(repeating: 0, count: rows * len)
        for r in 0..<rows { outPointers[r] = outBuffer + r * len }
        var t = tables
        ec_encode_data(Int32(len), Int32(k), Int32(rows), &t, inPointers, outPointers)
        for r in 0..<rows { outputs[r] = Array(UnsafeBufferPointer(start: outBuffer + r * len, count: len)) }
    }
}
