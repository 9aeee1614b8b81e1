import EdgeVaultCore

/// SLIP-0039: Shamir's secret sharing of a secret as mnemonic word lists, in two levels
/// (docs/PROTOCOL.md §"Key recovery"). The secret the person shares is the 32-byte root secret
/// of their key file; the passphrase is empty unless they set one.
///
/// Errors are `VaultError(.recoveryInvalid, …)` that name the problem for a person: which
/// mnemonic (counted from 1 in the order given), which word, which group ("group 2" is group
/// index 1) needs how many shares. Secrets and share values never appear in a message.
public enum Slip39 {
    /// The default policy: 2 of 3 groups, where group 1 is one share the person keeps and
    /// groups 2 and 3 are 2-of-3 among friends and among family.
    public static let defaultGroupThreshold = 2
    public static let defaultGroups: [(threshold: Int, count: Int)] = [(1, 1), (2, 3), (2, 3)]
    /// Shares and groups are numbered with 4 bits.
    public static let maxShareCount = 16

    static let digestIndex: UInt8 = 254
    static let secretIndex: UInt8 = 255
    static let digestLength = 4

    /// What a complete, consistent set of shares shares (from `verify`).
    public struct SetInfo: Sendable, Equatable {
        public var identifier: Int
        public var extendable: Bool
        public var iterationExponent: Int
        public var groupThreshold: Int
        public var groupCount: Int
        /// The group indices (from 0) of the groups the set uses.
        public var groupsUsed: [Int]
        public var secretLength: Int
    }

    /// Splits `secret` (16 to 32 bytes, an even number) into mnemonics, one list per group in
    /// the order of `groups`; any `groupThreshold` groups, each with its own threshold of
    /// mnemonics, give the secret back with `combine`.
    ///
    /// - Parameters:
    ///   - passphrase: printable ASCII (32…126); a different passphrase recovers a different
    ///     secret, and nothing tells which is right (SLIP-0039 by design).
    ///   - iterationExponent: PBKDF2 runs 10000 · 2^e iterations in all (0…15).
    ///   - extendable: the identifier stays out of the encryption, so later splits of the
    ///     same secret with the same passphrase give the same encrypted secret.
    public static func split(
        secret: SecureBytes, groupThreshold: Int, groups: [(threshold: Int, count: Int)],
        passphrase: String = "", iterationExponent: Int = 1, extendable: Bool = true
    ) throws -> [[String]] {
        guard (16...32).contains(secret.count), secret.count % 2 == 0 else {
            throw VaultError(.badRequest, "SLIP-0039: a secret of \(secret.count) bytes; it must be 16 to 32 bytes, an even number")
        }
        guard !groups.isEmpty, groups.count <= maxShareCount, (1...groups.count).contains(groupThreshold) else {
            throw VaultError(.badRequest, "SLIP-0039: \(groupThreshold) of \(groups.count) groups; needs 1 ≤ threshold ≤ groups ≤ \(maxShareCount)")
        }
        for (i, g) in groups.enumerated() {
            guard 1 <= g.threshold, g.threshold <= g.count, g.count <= maxShareCount else {
                throw VaultError(.badRequest, "SLIP-0039: group \(i + 1) is \(g.threshold) of \(g.count); needs 1 ≤ threshold ≤ count ≤ \(maxShareCount)")
            }
            guard g.threshold > 1 || g.count == 1 else {
                throw VaultError(.badRequest, "SLIP-0039: group \(i + 1) is 1 of \(g.count); a group with threshold 1 has one share (copy it instead)")
            }
        }
        guard (0...15).contains(iterationExponent) else {
            throw VaultError(.badRequest, "SLIP-0039: iteration exponent \(iterationExponent); it must be 0 to 15")
        }
        var pass = try passphraseBytes(passphrase)
        defer { Sodium.wipe(&pass) }
        let identifier = Int(Sodium.randomBytes(2).withUnsafeBytes { $0.load(as: UInt16.self) } & 0x7FFF)
        var master = secret.withUnsafeBytes { Array($0) }
        var ems = Slip39Cipher.feistel(
            master, passphrase: pass, iterationExponent: iterationExponent, identifier: identifier, extendable: extendable, decrypt: false)
        Sodium.wipe(&master)
        defer { Sodium.wipe(&ems) }
        var groupShares = splitSecret(threshold: groupThreshold, count: groups.count, secret: ems)
        defer { for i in groupShares.indices { Sodium.wipe(&groupShares[i]) } }
        return groups.enumerated().map { groupIndex, group in
            var members = splitSecret(threshold: group.threshold, count: group.count, secret: groupShares[groupIndex])
            defer { for i in members.indices { Sodium.wipe(&members[i]) } }
            return members.indices.map { memberIndex in
                let info = ShareInfo(
                    identifier: identifier, extendable: extendable, iterationExponent: iterationExponent,
                    groupIndex: groupIndex, groupThreshold: groupThreshold, groupCount: groups.count,
                    memberIndex: memberIndex, memberThreshold: group.threshold, secretLength: secret.count)
                return Slip39Share(info: info, value: members[memberIndex]).words().joined(separator: " ")
            }
        }
    }

    /// `split` of a secret in an ordinary array (test vectors, tools); prefer `SecureBytes`.
    public static func split(
        secret: [UInt8], groupThreshold: Int, groups: [(threshold: Int, count: Int)],
        passphrase: String = "", iterationExponent: Int = 1, extendable: Bool = true
    ) throws -> [[String]] {
        var copy = secret
        return try split(
            secret: SecureBytes(wiping: &copy), groupThreshold: groupThreshold, groups: groups,
            passphrase: passphrase, iterationExponent: iterationExponent, extendable: extendable)
    }

    /// The secret from a set of mnemonics: exactly the group threshold's number of groups,
    /// each with exactly its member threshold's number of mnemonics (SLIP-0039 "Combining the
    /// shares"), in any order. The result is in guarded memory; every intermediate is wiped.
    public static func combine(mnemonics: [String], passphrase: String = "") throws -> SecureBytes {
        var pass = try passphraseBytes(passphrase)
        defer { Sodium.wipe(&pass) }
        var (ems, info) = try recoverEncryptedSecret(mnemonics)
        defer { Sodium.wipe(&ems) }
        var secret = Slip39Cipher.feistel(
            ems, passphrase: pass, iterationExponent: info.iterationExponent, identifier: info.identifier,
            extendable: info.extendable, decrypt: true)
        return SecureBytes(wiping: &secret)
    }

    /// One mnemonic's metadata, after checking its words, length, checksum and padding.
    public static func check(mnemonic: String) throws -> ShareInfo {
        var share = try Slip39Share.parse(mnemonic, label: "the mnemonic")
        Sodium.wipe(&share.value)
        return share.info
    }

    /// Checks that `mnemonics` are a complete, consistent set, digests included, without
    /// giving the secret out: the encrypted secret is recovered inside and wiped. The
    /// passphrase is not needed and cannot be checked (SLIP-0039 has no passphrase check).
    public static func verify(mnemonics: [String]) throws -> SetInfo {
        var (ems, info) = try recoverEncryptedSecret(mnemonics)
        Sodium.wipe(&ems)
        return info
    }

    // MARK: - Internals

    static func passphraseBytes(_ passphrase: String) throws -> [UInt8] {
        let bytes = Array(passphrase.utf8)
        guard bytes.allSatisfy({ (32...126).contains($0) }) else {
            throw VaultError(.badRequest, "SLIP-0039: the passphrase must be printable ASCII (no accents, tabs or line breaks)")
        }
        return bytes
    }

    /// SplitSecret(T, N, S): N share values; for T ≥ 2, T − 2 random ones and the rest on the
    /// polynomial through them, (254, digest ‖ R) and (255, S).
    static func splitSecret(threshold: Int, count: Int, secret: [UInt8]) -> [[UInt8]] {
        if threshold == 1 { return Array(repeating: secret, count: count) }
        var random = Sodium.randomBytes(secret.count - digestLength)
        var digestShare = Array(Slip39Cipher.hmacSHA256(key: random, message: secret).prefix(digestLength)) + random
        Sodium.wipe(&random)
        var xs = (0..<(threshold - 2)).map { UInt8($0) }
        var ys = xs.map { _ in Sodium.randomBytes(secret.count) }
        xs += [digestIndex, secretIndex]
        ys += [digestShare, secret]
        Sodium.wipe(&digestShare)
        var shares = ys.prefix(threshold - 2).map { $0 }
        for x in (threshold - 2)..<count { shares.append(GF256.interpolate(xs: xs, ys: ys, at: UInt8(x))) }
        for i in ys.indices { Sodium.wipe(&ys[i]) }
        return shares
    }

    /// RecoverSecret(T, shares): the value at 255, checked against the digest at 254.
    static func recoverSecret(threshold: Int, xs: [UInt8], ys: [[UInt8]], what: String) throws -> [UInt8] {
        if threshold == 1 { return ys[0] }
        var secret = GF256.interpolate(xs: xs, ys: ys, at: secretIndex)
        var digestShare = GF256.interpolate(xs: xs, ys: ys, at: digestIndex)
        var random = Array(digestShare[digestLength...])
        defer { Sodium.wipe(&digestShare); Sodium.wipe(&random) }
        let expected = Slip39Cipher.hmacSHA256(key: random, message: secret).prefix(digestLength)
        guard Sodium.constantTimeEquals(Array(expected), Array(digestShare.prefix(digestLength))) else {
            Sodium.wipe(&secret)
            throw VaultError(
                .recoveryInvalid,
                "\(what): the shares do not agree (digest mismatch): one of them was altered or is from another set")
        }
        return secret
    }
}
