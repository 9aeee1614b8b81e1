import Testing
import EdgeVaultCore
@testable import EdgeVaultRecovery

/// GF(256), PBKDF2, the wordlist and RS1024 under SLIP-0039 (docs/PROTOCOL.md §"Key recovery").
@Suite struct Slip39PrimitiveTests {
    /// A slow, branching textbook multiply: carry-less product, then reduction by 0x11B.
    static func referenceMul(_ a: UInt8, _ b: UInt8) -> UInt8 {
        var product: UInt16 = 0
        for bit in 0..<8 where (b >> bit) & 1 == 1 { product ^= UInt16(a) << bit }
        for bit in (8...14).reversed() where (product >> bit) & 1 == 1 { product ^= 0x11B << (bit - 8) }
        return UInt8(product)
    }

    @Test func constantTimeMultiplyMatchesTheReferenceOnAllPairs() {
        var mismatches = 0
        for a in 0...255 {
            for b in 0...255 where GF256.mul(UInt8(a), UInt8(b)) != Self.referenceMul(UInt8(a), UInt8(b)) { mismatches += 1 }
        }
        #expect(mismatches == 0)
        // FIPS-197 §4.2: {57} • {83} = {c1}.
        #expect(GF256.mul(0x57, 0x83) == 0xC1)
    }

    @Test func inverseIsTheInverseForEveryNonZeroElement() {
        #expect(GF256.inverse(0) == 0)
        for a in 1...255 { #expect(GF256.mul(UInt8(a), GF256.inverse(UInt8(a))) == 1, "\(a)") }
    }

    /// A degree-2 polynomial through known points: interpolation gives it back anywhere.
    @Test func interpolationRecoversThePolynomial() {
        // f(x) = 7 + 3x + 5x² per byte, in GF(256).
        func f(_ x: UInt8) -> UInt8 { 7 ^ GF256.mul(3, x) ^ GF256.mul(5, GF256.mul(x, x)) }
        let xs: [UInt8] = [1, 9, 254]
        let ys = xs.map { [f($0), f($0) ^ 1 ^ GF256.mul(2, $0)] }  // a second polynomial beside it
        for x in [0, 2, 100, 255] as [UInt8] {
            #expect(GF256.interpolate(xs: xs, ys: ys, at: x) == [f(x), f(x) ^ 1 ^ GF256.mul(2, x)])
        }
        #expect(GF256.interpolate(xs: xs, ys: ys, at: 9) == ys[1])
    }

    /// PBKDF2-HMAC-SHA256 against RFC 7914 §11 and a SLIP-0039-shaped call (values from
    /// CPython's hashlib.pbkdf2_hmac, an independent implementation).
    @Test func pbkdf2MatchesKnownAnswers() {
        #expect(Slip39Cipher.pbkdf2(password: Array("passwd".utf8), salt: Array("salt".utf8), iterations: 1, length: 64)
            == hex("55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783"))
        #expect(Slip39Cipher.pbkdf2(password: Array("Password".utf8), salt: Array("NaCl".utf8), iterations: 80000, length: 64)
            == hex("4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d"))
        #expect(Slip39Cipher.pbkdf2(password: [0] + Array("TREZOR".utf8), salt: Array("shamir".utf8) + [0x12, 0x34] + Array(0..<8), iterations: 2500, length: 8)
            == hex("3182b846dcfa7cd9"))
    }

    @Test func feistelRoundTrips() {
        let secret = Sodium.randomBytes(32)
        for extendable in [true, false] {
            let e = Slip39Cipher.feistel(secret, passphrase: Array("pw".utf8), iterationExponent: 0, identifier: 0x1234, extendable: extendable, decrypt: false)
            #expect(e != secret)
            #expect(Slip39Cipher.feistel(e, passphrase: Array("pw".utf8), iterationExponent: 0, identifier: 0x1234, extendable: extendable, decrypt: true) == secret)
        }
    }

    /// The generated wordlist is the published one: 1024 sorted words, first four letters
    /// unique, and the SHA-256 of the file it came from.
    @Test func wordlistIsTheOfficialOne() {
        let words = Slip39Wordlist.words
        #expect(words.count == 1024 && words == words.sorted())
        #expect(Set(words.map { $0.prefix(4) }).count == 1024)
        let file = words.map { $0 + "\n" }.joined()
        #expect(Encoding.hex(Hash.sha256(Array(file.utf8))) == Slip39Wordlist.sourceSHA256)
        #expect(Slip39Wordlist.sourceSHA256 == "bcc4555340332d169718aed8bf31dd9d5248cb7da6e5d355140ef4f1e601eec3")
        #expect(words.first == "academic" && words.last == "zero")
    }

    @Test func checksumRoundTripsAndDependsOnTheCustomization() {
        let data = (0..<17).map { ($0 * 97) % 1024 }
        let standard = Array("shamir".utf8), extendable = Array("shamir_extendable".utf8)
        let sum = RS1024.checksum(data, customization: standard)
        #expect(RS1024.verify(data + sum, customization: standard))
        #expect(!RS1024.verify(data + sum, customization: extendable))
        #expect(RS1024.verify(data + RS1024.checksum(data, customization: extendable), customization: extendable))
    }

    @Test func valueBitPackingRoundTrips() {
        for count in [16, 18, 20, 32] {
            let value = Sodium.randomBytes(count)
            let words = Slip39Share.valueIndices(value)
            #expect(words.count == (count * 8 + 9) / 10)
            #expect(Slip39Share.valueBytes(words[...], padding: words.count * 10 - count * 8) == value)
        }
    }
}
