import CISAL
import EdgeVaultCore
import EdgeVaultFragments
import Testing

/// `rs-isal/1` (docs/PROTOCOL.md §"Fragments").
@Suite struct ErasureCoderTests {
    /// Every k-subset of the default 3-of-8 decodes to the original, for sizes 0, 1, k − 1,
    /// k, k + 1, an odd 1000 and 1 MiB.
    @Test func everySubsetOfThreeOfEightDecodes() throws {
        let coder = ErasureCoder.default
        #expect(coder.k == 3 && coder.n == 8)
        let subsets = kSubsets(Array(0..<8), 3)
        #expect(subsets.count == 56)
        for size in [0, 1, 2, 3, 4, 1000, 1 << 20] {
            let data = Sodium.randomBytes(size)
            let shares = coder.encode(data)
            #expect(shares.count == 8)
            #expect(shares.allSatisfy { $0.count == (size + 2) / 3 })
            for subset in subsets {
                let given = Dictionary(uniqueKeysWithValues: subset.map { ($0, shares[$0]) })
                #expect(try coder.decode(shares: given, size: size) == data, "size \(size), shares \(subset)")
            }
            // All eight at once: the lowest three are used.
            let all = Dictionary(uniqueKeysWithValues: shares.enumerated().map { ($0.offset, $0.element) })
            #expect(try coder.decode(shares: all, size: size) == data)
        }
    }

    /// Other k-of-n, the extremes included (1-of-2 is a copy; 254-of-255 has one parity share).
    @Test(arguments: [(1, 2), (2, 5), (4, 6), (10, 16), (254, 255)])
    func otherPolicies(k: Int, n: Int) throws {
        let coder = try ErasureCoder(k: k, n: n)
        let data = Sodium.randomBytes(5000)
        let shares = coder.encode(data)
        // The last k shares (parity first) and a spread of them.
        let last = Dictionary(uniqueKeysWithValues: (n - k..<n).map { ($0, shares[$0]) })
        #expect(try coder.decode(shares: last, size: data.count) == data)
        let spread = Dictionary(uniqueKeysWithValues: (0..<n).filter { $0 != k / 2 }.prefix(k).map { ($0, shares[$0]) })
        #expect(try coder.decode(shares: spread, size: data.count) == data)
    }

    /// Systematic: the first k shares are the data (last zero padded); the parity shares equal
    /// the encoding matrix times the data computed byte by byte with ISA-L's own `gf_mul`, and
    /// the matrix is the Cauchy matrix 1 / (i ⊕ j) under the identity (ISA-L's `gf_inv`).
    @Test func parityIsTheCauchyMatrixTimesTheData() {
        let k = 3, n = 8
        let data: [UInt8] = Array(1...10)
        let shares = ErasureCoder.default.encode(data)
        #expect(shares[0] == [1, 2, 3, 4] && shares[1] == [5, 6, 7, 8] && shares[2] == [9, 10, 0, 0])
        var matrix = [UInt8](repeating: 0, count: n * k)
        gf_gen_cauchy1_matrix(&matrix, Int32(n), Int32(k))
        for i in 0..<n {
            for j in 0..<k {
                let expected = i < k ? UInt8(i == j ? 1 : 0) : gf_inv(UInt8(i ^ j))
                #expect(matrix[i * k + j] == expected, "row \(i), column \(j)")
            }
        }
        for row in k..<n {
            let expected = (0..<4).map { b in
                (0..<k).reduce(UInt8(0)) { $0 ^ gf_mul(matrix[row * k + $1], shares[$1][b]) }
            }
            #expect(shares[row] == expected, "parity row \(row)")
        }
    }

    @Test func decodeErrorsNameTheProblem() throws {
        let coder = ErasureCoder.default
        let data = Sodium.randomBytes(100)
        let shares = coder.encode(data)
        #expect(shares[0].count == 34)
        func message(_ given: [Int: [UInt8]], size: Int = 100) -> String? {
            do { _ = try coder.decode(shares: given, size: size); return nil } catch let e as VaultError {
                #expect(e.code == .fragmentInvalid)
                return e.message
            } catch { return "\(error)" }
        }
        #expect(message([0: shares[0], 5: shares[5]]) == "fragments: 2 share(s) given, 3 of 8 needed")
        #expect(message([:]) == "fragments: 0 share(s) given, 3 of 8 needed")
        #expect(message([0: shares[0], 1: shares[1], 8: shares[2]]) == "fragments: share index 8 is outside 0..<8 (3-of-8)")
        #expect(message([-1: shares[0], 1: shares[1], 2: shares[2]])?.contains("share index -1") == true)
        #expect(message([0: shares[0], 1: Array(shares[1].dropLast()), 2: shares[2]])
            == "fragments: share 1 is 33 bytes; 100 bytes in 3-of-8 shares are 34 each")
        // The right shares with the wrong size: another share length.
        #expect(message([0: shares[0], 1: shares[1], 2: shares[2]], size: 200)?.contains("are 67 each") == true)
        #expect(message([0: shares[0], 1: shares[1], 2: shares[2]], size: -1) == "fragments: a size of -1 bytes")
    }

    @Test func invalidPoliciesAreRefused() {
        for (k, n) in [(0, 3), (3, 3), (4, 3), (3, 256), (-1, 2)] {
            #expect(throws: VaultError.self, "\(k)-of-\(n)") { try ErasureCoder(k: k, n: n) }
        }
        #expect(ErasureCoder.codec == "rs-isal/1")
    }

    /// The code corrects erasures, not errors: an altered share decodes, to other bytes, and
    /// only the caller's SHA-256 of the original catches it.
    @Test func anAlteredShareDecodesToOtherBytes() throws {
        let coder = ErasureCoder.default
        let data = Sodium.randomBytes(3000)
        var shares = coder.encode(data)
        shares[6][17] ^= 0x40
        let given = [0: shares[0], 4: shares[4], 6: shares[6]]
        let decoded = try coder.decode(shares: given, size: data.count)
        #expect(decoded != data)
        #expect(Hash.sha256(decoded) != Hash.sha256(data))
        // Data shares altered come straight through as well.
        shares[0][0] ^= 1
        #expect(try coder.decode(shares: [0: shares[0], 1: shares[1], 2: shares[2]], size: data.count) != data)
    }

    /// Informal figure for the report: one encode and one worst-case decode of 1 MiB.
    @Test func oneMebibyteThroughput() throws {
        let coder = ErasureCoder.default
        let data = Sodium.randomBytes(1 << 20)
        let clock = ContinuousClock()
        var shares = [[UInt8]]()
        let encode = clock.measure { shares = coder.encode(data) }
        var decoded = [UInt8]()
        let decode = try clock.measure {
            decoded = try coder.decode(shares: [5: shares[5], 6: shares[6], 7: shares[7]], size: data.count)
        }
        #expect(decoded == data)
        func mbps(_ d: Duration) -> Int { Int(1.048576 / (Double(d.components.attoseconds) / 1e18 + Double(d.components.seconds))) }
        print("rs-isal/1 3-of-8, 1 MiB (debug build): encode \(encode) (\(mbps(encode)) MB/s), decode from parity only \(decode) (\(mbps(decode)) MB/s)")
    }
}

/// All `r`-element subsets of `items`, in order.
func kSubsets<T>(_ items: [T], _ r: Int) -> [[T]] {
    guard r > 0 else { return [[]] }
    guard items.count >= r else { return [] }
    let head = items[0], tail = Array(items.dropFirst())
    return kSubsets(tail, r - 1).map { [head] + $0 } + kSubsets(tail, r)
}
