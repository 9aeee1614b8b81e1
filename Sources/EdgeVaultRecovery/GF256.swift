/// GF(2⁸) arithmetic for SLIP-0039's Shamir sharing (docs/PROTOCOL.md §"Key recovery"):
/// polynomial basis modulo the Rijndael polynomial x⁸ + x⁴ + x³ + x + 1 (0x11B).
///
/// Constant time on purpose. Share bytes and the secret are multiplied here, so no table is
/// indexed by them and no branch depends on them: a log/exp-table multiply leaks its operands
/// through the cache (HashiCorp Vault's Shamir code used tables and was changed to exactly
/// this kind of multiply). `mul` is the bitwise "Russian peasant" product with masks instead
/// of branches; `inverse` is x²⁵⁴ by a fixed chain of squarings and products.
enum GF256 {
    /// a · b in GF(2⁸), in constant time: eight rounds, each adding `a` under a mask made
    /// from the low bit of `b`, then doubling `a` and reducing under a mask from its top bit.
    @inline(__always)
    static func mul(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var a = a, b = b, product: UInt8 = 0
        for _ in 0..<8 {
            product ^= a & (0 &- (b & 1))
            let carry = 0 &- (a &>> 7)
            a = (a &<< 1) ^ (0x1B & carry)
            b = b &>> 1
        }
        return product
    }

    /// a⁻¹ = a²⁵⁴ (and 0 for 0), in constant time: 254 = 2 + 4 + … + 128, so the result is
    /// the product of the seven squarings a², a⁴, …, a¹²⁸.
    @inline(__always)
    static func inverse(_ a: UInt8) -> UInt8 {
        var square = a, result: UInt8 = 1
        for _ in 0..<7 {
            square = mul(square, square)
            result = mul(result, square)
        }
        return result
    }

    /// f(x) for the polynomials of least degree through the points `(xs[i], ys[i])`, one
    /// polynomial per byte position (Lagrange's formula, SLIP-0039 "Interpolate").
    ///
    /// The x values are share indices (public: they are in every mnemonic); the y values are
    /// secret, and each of their bytes goes through the same constant-time multiplies and
    /// XORs. The caller checks that `xs` are distinct and the `ys` of one length.
    static func interpolate(xs: [UInt8], ys: [[UInt8]], at x: UInt8) -> [UInt8] {
        precondition(xs.count == ys.count && !xs.isEmpty)
        if let i = xs.firstIndex(of: x) { return ys[i] }
        let length = ys[0].count
        var result = [UInt8](repeating: 0, count: length)
        for i in xs.indices {
            // basis_i(x) = Π_{j≠i} (x − x_j) / (x_i − x_j); subtraction is XOR.
            var numerator: UInt8 = 1, denominator: UInt8 = 1
            for j in xs.indices where j != i {
                numerator = mul(numerator, x ^ xs[j])
                denominator = mul(denominator, xs[i] ^ xs[j])
            }
            let basis = mul(numerator, inverse(denominator))
            ys[i].withUnsafeBufferPointer { y in
                for k in 0..<length { result[k] ^= mul(y[k], basis) }
            }
        }
        return result
    }
}
