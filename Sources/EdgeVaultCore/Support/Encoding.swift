import CSodium

/// Byte-string encodings used on the wire: base64 (standard, padded), base64url (no padding),
/// base32 (RFC 4648) and hex. Decoding is strict: no whitespace, no wrong padding.
public enum Encoding {
    private static func base64(_ bytes: [UInt8], variant: Int32) -> String {
        Sodium.ensureInitialized()
        let len = sodium_base64_encoded_len(bytes.count, variant)
        var out = [CChar](repeating: 0, count: len)
        _ = out.withUnsafeMutableBufferPointer { o in
            bytes.withUnsafeBufferPointer { b in sodium_bin2base64(o.baseAddress!, len, b.baseAddress, bytes.count, variant) }
        }
        return String(decoding: out.prefix(len - 1).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func unbase64(_ text: some StringProtocol, variant: Int32) -> [UInt8]? {
        Sodium.ensureInitialized()
        let input = Array(text.utf8)
        if input.isEmpty { return [] }
        var out = [UInt8](repeating: 0, count: input.count * 3 / 4 + 3)
        var outLen = 0
        var end: UnsafePointer<CChar>? = nil
        let rc = out.withUnsafeMutableBufferPointer { o in
            input.withUnsafeBufferPointer { i in
                i.withMemoryRebound(to: CChar.self) { ci in
                    sodium_base642bin(o.baseAddress!, o.count, ci.baseAddress, input.count, nil, &outLen, &end, variant)
                }
            }
        }
        guard rc == 0 else { return nil }
        // sodium stops at the first invalid character: require it consumed everything.
        let consumed = input.withUnsafeBufferPointer { i in
            i.withMemoryRebound(to: CChar.self) { ci in end.map { $0 - ci.baseAddress! } ?? -1 }
        }
        guard consumed == input.count else { return nil }
        return Array(out.prefix(outLen))
    }

    /// Standard base64 with padding (hashes, leaves, ciphertexts, sealed keys).
    public static func base64(_ bytes: [UInt8]) -> String { base64(bytes, variant: sodium_base64_VARIANT_ORIGINAL) }
    public static func fromBase64(_ text: some StringProtocol) -> [UInt8]? { unbase64(text, variant: sodium_base64_VARIANT_ORIGINAL) }

    /// base64url without padding (keys and everything JOSE).
    public static func base64url(_ bytes: [UInt8]) -> String { base64(bytes, variant: sodium_base64_VARIANT_URLSAFE_NO_PADDING) }
    public static func fromBase64url(_ text: some StringProtocol) -> [UInt8]? {
        unbase64(text, variant: sodium_base64_VARIANT_URLSAFE_NO_PADDING)
    }

    /// RFC 4648 base32 without padding, in upper or lower case.
    public static func base32(_ bytes: [UInt8], lowercase: Bool = false) -> String {
        let alphabet = Array((lowercase ? "abcdefghijklmnopqrstuvwxyz234567" : "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567").utf8)
        var out: [UInt8] = []
        out.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | UInt32(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int((buffer >> UInt32(bits - 5)) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int((buffer << UInt32(5 - bits)) & 31)]) }
        return String(decoding: out, as: UTF8.self)
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for b in bytes {
            out.append(digits[Int(b >> 4)])
            out.append(digits[Int(b & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    public static func fromHex(_ text: some StringProtocol) -> [UInt8]? {
        let chars = Array(text.utf8)
        guard chars.count % 2 == 0 else { return nil }
        func nibble(_ c: UInt8) -> UInt8? {
            switch c {
            case 48...57: return c - 48
            case 97...102: return c - 87
            case 65...70: return c - 55
            default: return nil
            }
        }
        var out = [UInt8]()
        out.reserveCapacity(chars.count / 2)
        var i = 0
        while i < chars.count {
            guard let h = nibble(chars[i]), let l = nibble(chars[i + 1]) else { return nil }
            out.append(h << 4 | l)
            i += 2
        }
        return out
    }
}

extension String {
    /// The string with zeros in front, at least `width` characters long.
    package func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
