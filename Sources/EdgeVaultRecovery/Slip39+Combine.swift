import EdgeVaultCore

extension Slip39 {
    /// The encrypted master secret of a set of mnemonics, after every check of SLIP-0039
    /// "Combining the shares", each failing with a message that names the mnemonic, group
    /// or field at fault (docs/PROTOCOL.md §"Key recovery").
    static func recoverEncryptedSecret(_ mnemonics: [String]) throws -> ([UInt8], SetInfo) {
        guard !mnemonics.isEmpty else { throw VaultError(.recoveryInvalid, "recovery: no mnemonics given") }
        var shares = [Slip39Share]()
        defer { for i in shares.indices { Sodium.wipe(&shares[i].value) } }
        for (i, mnemonic) in mnemonics.enumerated() {
            shares.append(try Slip39Share.parse(mnemonic, label: "mnemonic \(i + 1)"))
        }
        let first = shares[0].info
        // Fields every share of one split has in common.
        let common: [(String, (ShareInfo) -> Int)] = [
            ("identifier", { $0.identifier }), ("extendable flag", { $0.extendable ? 1 : 0 }),
            ("iteration exponent", { $0.iterationExponent }), ("group threshold", { $0.groupThreshold }),
            ("group count", { $0.groupCount }), ("length", { $0.secretLength }),
        ]
        for (i, share) in shares.enumerated().dropFirst() {
            for (field, value) in common where value(share.info) != value(first) {
                let hint = field == "identifier" || field == "extendable flag" || field == "iteration exponent"
                    ? " (the first two words differ)" : ""
                throw VaultError(
                    .recoveryInvalid,
                    "mnemonic \(i + 1) has a different \(field) from mnemonic 1\(hint): they are not shares of the same secret")
            }
        }
        // Members by group, checked for one threshold and distinct indices.
        var groups = [Int: [Int]]()  // group index → positions in `shares`
        for (i, share) in shares.enumerated() { groups[share.info.groupIndex, default: []].append(i) }
        var problems = [String]()
        for groupIndex in groups.keys.sorted() {
            let members = groups[groupIndex]!
            let lead = shares[members[0]].info
            for i in members.dropFirst() {
                let info = shares[i].info
                guard info.memberThreshold == lead.memberThreshold else {
                    throw VaultError(
                        .recoveryInvalid,
                        "mnemonics \(members[0] + 1) and \(i + 1) disagree on how many shares group \(groupIndex + 1) needs "
                            + "(\(lead.memberThreshold) and \(info.memberThreshold))")
                }
            }
            var seen = [Int: Int]()
            for i in members {
                if let other = seen[shares[i].info.memberIndex] {
                    throw VaultError(
                        .recoveryInvalid,
                        "mnemonics \(other + 1) and \(i + 1) are the same share (share \(shares[i].info.memberIndex + 1) of group \(groupIndex + 1)): give each share once")
                }
                seen[shares[i].info.memberIndex] = i
            }
            if members.count != lead.memberThreshold {
                problems.append("group \(groupIndex + 1) needs \(lead.memberThreshold) shares, \(members.count) given")
            }
        }
        if groups.count < first.groupThreshold {
            problems.insert("\(first.groupThreshold) groups needed, \(groups.count) given", at: 0)
        } else if groups.count > first.groupThreshold {
            problems.insert("exactly \(first.groupThreshold) groups needed, \(groups.count) given: leave the others out", at: 0)
        }
        guard problems.isEmpty else {
            throw VaultError(.recoveryInvalid, "recovery: " + problems.joined(separator: "; "))
        }
        // Each group's secret, then the encrypted master secret from the group secrets.
        var groupXs = [UInt8](), groupYs = [[UInt8]]()
        defer { for i in groupYs.indices { Sodium.wipe(&groupYs[i]) } }
        for groupIndex in groups.keys.sorted() {
            let members = groups[groupIndex]!
            let value = try recoverSecret(
                threshold: shares[members[0]].info.memberThreshold,
                xs: members.map { UInt8(shares[$0].info.memberIndex) }, ys: members.map { shares[$0].value },
                what: "group \(groupIndex + 1)")
            groupXs.append(UInt8(groupIndex))
            groupYs.append(value)
        }
        let ems = try recoverSecret(threshold: first.groupThreshold, xs: groupXs, ys: groupYs, what: "recovery")
        let info = SetInfo(
            identifier: first.identifier, extendable: first.extendable, iterationExponent: first.iterationExponent,
            groupThreshold: first.groupThreshold, groupCount: first.groupCount, groupsUsed: groups.keys.sorted(),
            secretLength: first.secretLength)
        return (ems, info)
    }
}
