import EdgeVaultCore

/// SLIP-0039 shares gathered one at a time, as a person types them or a file lists them
/// (docs/PROTOCOL.md §"Key recovery"): each is checked as it comes (words, checksum, same set
/// as the others, not given twice), so a typo is caught at once and only that share is asked
/// again; the collector says how far each group is and picks the shares to combine.
public struct ShareCollector: Sendable {
    /// How far one group is.
    public struct GroupProgress: Sendable, Equatable {
        /// From 0, as in the mnemonic ("group 2" is index 1).
        public var groupIndex: Int
        public var have: Int
        public var need: Int
        public var isComplete: Bool { have >= need }
    }

    private var shares: [(mnemonic: String, info: ShareInfo)] = []

    public init() {}

    public var count: Int { shares.count }
    /// How many groups a set needs (nil before the first share).
    public var groupThreshold: Int? { shares.first?.info.groupThreshold }

    /// Checks `mnemonic` and keeps it; throws `recovery_invalid` naming the problem (an unknown
    /// word and its position, the word the checksum points at, another set, a share given twice).
    /// - Parameter label: how messages name it ("line 3", "that share").
    @discardableResult
    public mutating func add(_ mnemonic: String, label: String) throws -> ShareInfo {
        var share = try Slip39Share.parse(mnemonic, label: label)
        Sodium.wipe(&share.value)
        let info = share.info
        if let first = shares.first?.info {
            guard info.identifier == first.identifier, info.extendable == first.extendable,
                  info.iterationExponent == first.iterationExponent, info.groupThreshold == first.groupThreshold,
                  info.groupCount == first.groupCount, info.secretLength == first.secretLength
            else {
                throw VaultError(.recoveryInvalid, "\(label) is from another set of shares than the first one (its first words differ)")
            }
            if let same = shares.first(where: { $0.info.groupIndex == info.groupIndex && $0.info.memberIndex == info.memberIndex }) {
                let what = same.mnemonic == normalized(mnemonic) ? "was already given" : "has the same number as one already given (a copy altered?)"
                throw VaultError(.recoveryInvalid, "\(label) \(what): share \(info.memberIndex + 1) of group \(info.groupIndex + 1)")
            }
            if let other = shares.first(where: { $0.info.groupIndex == info.groupIndex }), other.info.memberThreshold != info.memberThreshold {
                throw VaultError(.recoveryInvalid, "\(label) says group \(info.groupIndex + 1) needs \(info.memberThreshold) shares, "
                    + "an earlier share of it says \(other.info.memberThreshold): they are not from the same set")
            }
        }
        shares.append((normalized(mnemonic), info))
        return info
    }

    /// Every group with at least one share, in order, with how many of its shares it has and needs.
    public var progress: [GroupProgress] {
        var byGroup = [Int: GroupProgress]()
        for s in shares {
            byGroup[s.info.groupIndex, default: GroupProgress(groupIndex: s.info.groupIndex, have: 0, need: s.info.memberThreshold)].have += 1
        }
        return byGroup.keys.sorted().map { byGroup[$0]! }
    }

    /// Enough complete groups to recover the secret.
    public var isComplete: Bool {
        guard let needed = groupThreshold else { return false }
        return progress.filter(\.isComplete).count >= needed
    }

    /// What is still missing, for a person: "2 groups needed, 1 complete; group 2: 1 of 2 shares".
    public var missing: String {
        guard let needed = groupThreshold else { return "no shares given" }
        let complete = progress.filter(\.isComplete).count
        let parts = progress.filter { !$0.isComplete }.map { "group \($0.groupIndex + 1): \($0.have) of \($0.need) shares" }
        return (["\(needed) group\(needed == 1 ? "" : "s") needed, \(complete) complete"] + parts).joined(separator: "; ")
    }

    /// The shares to combine: the first `groupThreshold` complete groups, the first shares of
    /// each up to its threshold (SLIP-0039 combines exactly that many).
    public func minimalSet() throws -> [String] {
        guard isComplete, let needed = groupThreshold else {
            throw VaultError(.recoveryInvalid, "not enough shares: \(missing)")
        }
        let groups = progress.filter(\.isComplete).prefix(needed)
        return groups.flatMap { g in shares.filter { $0.info.groupIndex == g.groupIndex }.prefix(g.need).map(\.mnemonic) }
    }

    /// Checks that every share given takes part in a consistent recovery (digests at both
    /// levels), without giving out the secret: sets of exactly the thresholds, rotating through
    /// the complete groups and through each group's shares until every one was used. A share
    /// of a group that is not complete cannot be checked beyond its own checksum.
    /// - Returns: what the set is, from `Slip39.verify`.
    public func verifyAll() throws -> Slip39.SetInfo {
        guard isComplete, let needed = groupThreshold else {
            throw VaultError(.recoveryInvalid, "not enough shares: \(missing)")
        }
        let complete = progress.filter(\.isComplete)
        let members = complete.map { g in shares.filter { $0.info.groupIndex == g.groupIndex }.map(\.mnemonic) }
        let rotations = members.map(\.count).max() ?? 1
        var info: Slip39.SetInfo?
        for first in 0..<complete.count {
            let groupPick = (0..<needed).map { (first + $0) % complete.count }
            for r in 0..<rotations {
                let set = groupPick.flatMap { g in
                    (0..<complete[g].need).map { members[g][(r + $0) % members[g].count] }
                }
                info = try Slip39.verify(mnemonics: set)
            }
        }
        return info!
    }

    func normalized(_ mnemonic: String) -> String {
        mnemonic.split(whereSeparator: { $0.isWhitespace }).map { $0.lowercased() }.joined(separator: " ")
    }
}

extension Slip39 {
    /// The key id (RFC 7638 thumbprint) of the person's keys derived from a recovered root
    /// secret, computed in guarded memory: what tells whether shares open a given key file.
    public static func keyId(ofRoot root: SecureBytes) throws -> String {
        guard root.count == 32 else {
            throw VaultError(.recoveryInvalid, "these shares hold a \(root.count)-byte secret; an EdgeVault root secret is 32 bytes")
        }
        return UserKeys(root: root).publicKeys.keyId
    }
}
