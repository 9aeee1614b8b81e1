import EdgeVaultCore

/// What one SLIP-0039 mnemonic says about itself, without its share value
/// (docs/PROTOCOL.md §"Key recovery"). Indices count from 0 as in the mnemonic; thresholds and
/// counts are the real numbers (the mnemonic stores them minus one).
public struct ShareInfo: Sendable, Equatable, Hashable {
    /// The random 15-bit identifier all shares of one split have in common.
    public var identifier: Int
    /// The extendable-backup flag: the identifier is not part of the encryption's salt.
    public var extendable: Bool
    /// PBKDF2 runs 10000 · 2^e iterations in all.
    public var iterationExponent: Int
    public var groupIndex: Int
    public var groupThreshold: Int
    public var groupCount: Int
    public var memberIndex: Int
    public var memberThreshold: Int
    /// The length of the shared secret in bytes (16 or 32 for the usual secrets).
    public var secretLength: Int
}

/// One decoded share: its metadata and value.
struct Slip39Share {
    var info: ShareInfo
    var value: [UInt8]

    static let radixBits = 10
    static let checksumWords = 3
    /// Identifier (15 bits) + extendable flag (1) + iteration exponent (4) = 2 words.
    static let idExpWords = 2
    /// id/exp, 2 words of group and member parameters, the checksum.
    static let metadataWords = idExpWords + 2 + checksumWords
    /// 128 bits of value: 13 words.
    static let minimumWords = metadataWords + 13

    static func customization(extendable: Bool) -> [UInt8] {
        Array((extendable ? "shamir_extendable" : "shamir").utf8)
    }

    /// The mnemonic's words.
    func words() -> [String] {
        var data = Self.indices(of: info.identifier << 5 | (info.extendable ? 1 : 0) << 4 | info.iterationExponent, words: 2)
        let params = info.groupIndex << 16 | (info.groupThreshold - 1) << 12 | (info.groupCount - 1) << 8
            | info.memberIndex << 4 | (info.memberThreshold - 1)
        data += Self.indices(of: params, words: 2)
        data += Self.valueIndices(value)
        data += RS1024.checksum(data, customization: Self.customization(extendable: info.extendable))
        return data.map { Slip39Wordlist.words[$0] }
    }

    /// A mnemonic's share, or an error that names what is wrong: an unknown word (its position
    /// and the word), the length, the checksum (and the word likely wrong when changing one
    /// word would fix it), the padding, or parameters that cannot be.
    /// - Parameter label: how messages name this mnemonic ("mnemonic 2").
    static func parse(_ mnemonic: String, label: String) throws -> Slip39Share {
        let words = mnemonic.split(whereSeparator: { $0.isWhitespace }).map { $0.lowercased() }
        var data = [Int]()
        data.reserveCapacity(words.count)
        for (position, word) in words.enumerated() {
            guard let index = Slip39Wordlist.indices[word] else {
                throw VaultError(.recoveryInvalid, "\(label): word \(position + 1) '\(word)' is not in the SLIP-0039 wordlist")
            }
            data.append(index)
        }
        guard data.count >= minimumWords else {
            throw VaultError(
                .recoveryInvalid,
                "\(label): \(data.count) words; a share has at least \(minimumWords) (20 for a 16-byte secret, 33 for 32 bytes)")
        }
        let valueWords = data.count - metadataWords
        let padding = (radixBits * valueWords) % 16
        guard padding <= 8 else {
            throw VaultError(.recoveryInvalid, "\(label): \(data.count) words is not a length a share can have (a word missing or one too many?)")
        }
        let idExp = data[0] << 10 | data[1]
        let extendable = (idExp >> 4) & 1 == 1
        guard RS1024.verify(data, customization: customization(extendable: extendable)) else {
            var message = "\(label): the checksum does not match (a word is wrong or two are swapped)"
            if let position = RS1024.likelyWrongWord(data, customization: customization) {
                message += "; word \(position + 1) ('\(words[position])') is likely wrong"
            }
            throw VaultError(.recoveryInvalid, message)
        }
        let params = data[2] << 10 | data[3]
        let info = ShareInfo(
            identifier: idExp >> 5, extendable: extendable, iterationExponent: idExp & 0xF,
            groupIndex: params >> 16 & 0xF, groupThreshold: (params >> 12 & 0xF) + 1, groupCount: (params >> 8 & 0xF) + 1,
            memberIndex: params >> 4 & 0xF, memberThreshold: (params & 0xF) + 1,
            secretLength: (radixBits * valueWords - padding) / 8)
        guard info.groupThreshold <= info.groupCount else {
            throw VaultError(
                .recoveryInvalid,
                "\(label): its group threshold (\(info.groupThreshold)) is greater than its group count (\(info.groupCount))")
        }
        guard let value = valueBytes(data[(idExpWords + 2)..<(data.count - checksumWords)], padding: padding) else {
            throw VaultError(.recoveryInvalid, "\(label): the share value's padding bits are not zero")
        }
        guard value.count % 2 == 0 else {
            var v = value
            Sodium.wipe(&v)
            throw VaultError(.recoveryInvalid, "\(label): a \(info.secretLength)-byte secret; SLIP-0039 secrets are an even number of bytes")
        }
        return Slip39Share(info: info, value: value)
    }

    /// `value` as big-endian `width`-word indices.
    private static func indices(of value: Int, words: Int) -> [Int] {
        (0..<words).reversed().map { (value >> ($0 * radixBits)) & 0x3FF }
    }

    /// The share value left-padded with zero bits to a multiple of 10, as word indices.
    static func valueIndices(_ value: [UInt8]) -> [Int] {
        let count = (value.count * 8 + radixBits - 1) / radixBits
        var out = [Int]()
        out.reserveCapacity(count)
        var acc: UInt32 = 0, bits = count * radixBits - value.count * 8  // leading zero bits
        for byte in value {
            acc = acc << 8 | UInt32(byte)
            bits += 8
            while bits >= radixBits {
                bits -= radixBits
                out.append(Int(acc >> UInt32(bits)) & 0x3FF)
                acc &= (1 << UInt32(bits)) &- 1
            }
        }
        return out
    }

    /// The bytes of the value words, or nil when a padding bit is set.
    static func valueBytes(_ words: ArraySlice<Int>, padding: Int) -> [UInt8]? {
        var out = [UInt8]()
        out.reserveCapacity((words.count * radixBits - padding) / 8)
        var acc: UInt32 = 0, bits = 0, skipped = false
        for word in words {
            acc = acc << 10 | UInt32(word)
            bits += radixBits
            if !skipped {
                guard acc >> UInt32(bits - padding) == 0 else { return nil }
                bits -= padding
                skipped = true
            }
            acc &= (1 << UInt32(bits)) &- 1
            while bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: acc >> UInt32(bits)))
                acc &= (1 << UInt32(bits)) &- 1
            }
        }
        return out
    }
}

/// The RS1024 checksum over GF(1024) (SLIP-0039 §"Checksum"): three words, customized with
/// "shamir" or, for extendable backups, "shamir_extendable".
enum RS1024 {
    private static let generator: [UInt32] = [
        0xE0E040, 0x1C1C080, 0x3838100, 0x7070200, 0xE0E0009,
        0x1C0C2412, 0x38086C24, 0x3090FC48, 0x21B1F890, 0x3F3F120,
    ]

    static func polymod<S: Sequence>(_ values: S, start: UInt32 = 1) -> UInt32 where S.Element == Int {
        var chk = start
        for v in values {
            let b = chk >> 20
            chk = (chk & 0xFFFFF) << 10 ^ UInt32(v)
            for i in 0..<10 { chk ^= generator[i] & (0 &- ((b >> UInt32(i)) & 1)) }  // no branch on the data
        }
        return chk
    }

    static func verify(_ data: [Int], customization: [UInt8]) -> Bool {
        polymod(data, start: polymod(customization.map(Int.init))) == 1
    }

    static func checksum(_ data: [Int], customization: [UInt8]) -> [Int] {
        let value = polymod(data + [0, 0, 0], start: polymod(customization.map(Int.init))) ^ 1
        return [20, 10, 0].map { Int(value >> UInt32($0)) & 0x3FF }
    }

    /// The position of the one word that, replaced by some other word, would make the checksum
    /// match (each position × each of the 1024 words; the customization follows the
    /// extendable flag the changed words carry), or nil when no single word or more than one
    /// position would. The replacement itself is not told: SLIP-0039 asks implementations to
    /// point at the error, not correct it.
    static func likelyWrongWord(_ data: [Int], customization: (Bool) -> [UInt8]) -> Int? {
        var found: Int?
        var candidate = data
        for position in data.indices {
            for word in 0..<1024 where word != data[position] {
                candidate[position] = word
                let extendable = (candidate[1] >> 4) & 1 == 1
                if verify(candidate, customization: customization(extendable)) {
                    if found != nil && found != position { return nil }
                    found = position
                }
            }
            candidate[position] = data[position]
        }
        return found
    }
}
