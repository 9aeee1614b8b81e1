import Testing
import EdgeVaultCore
@testable import EdgeVaultRecovery

/// SLIP-0039 split, combine, check and verify (docs/PROTOCOL.md §"Key recovery").
@Suite struct Slip39Tests {
    static func bytes(_ s: SecureBytes) -> [UInt8] { s.withUnsafeBytes { Array($0) } }

    static func message(_ body: () throws -> Void) -> String? {
        do { try body(); return nil } catch let e as VaultError {
            #expect(e.code == .recoveryInvalid || e.code == .badRequest)
            return e.message
        } catch { return "\(error)" }
    }

    /// The default policy, 2 of (1-of-1, 2-of-3, 2-of-3), on a 32-byte root secret: every
    /// allowed combination recovers it, in any order.
    @Test func defaultPolicyRoundTrips() throws {
        let secret = SecureBytes.random(count: 32)
        let groups = try Slip39.split(secret: secret, groupThreshold: Slip39.defaultGroupThreshold, groups: Slip39.defaultGroups)
        #expect(groups.map(\.count) == [1, 3, 3])
        #expect(groups.joined().allSatisfy { $0.split(separator: " ").count == 33 })
        let pairs = [[0, 1], [0, 2], [1, 2]]
        var sets = [[String]]()
        for p in pairs {
            for a in kSubsets(groups[p[0]], Slip39.defaultGroups[p[0]].threshold) {
                for b in kSubsets(groups[p[1]], Slip39.defaultGroups[p[1]].threshold) { sets.append((a + b).shuffled()) }
            }
        }
        #expect(sets.count == 3 + 3 + 9)
        for set in sets { #expect(try Slip39.combine(mnemonics: set).isEqual(to: secret)) }
        let info = try Slip39.verify(mnemonics: sets[0])
        #expect(info.groupThreshold == 2 && info.groupCount == 3 && info.groupsUsed == [0, 1] && info.secretLength == 32)
        #expect(info.extendable && info.iterationExponent == 1)
        let share = try Slip39.check(mnemonic: groups[2][1])
        #expect(share.groupIndex == 2 && share.memberIndex == 1 && share.memberThreshold == 2 && share.groupCount == 3)
        #expect(share.identifier == info.identifier)
    }

    @Test func passphraseExponentAndNonExtendable() throws {
        let secret: [UInt8] = Array("ABCDEFGHIJKLMNOP".utf8)
        for extendable in [true, false] {
            let m = try Slip39.split(
                secret: secret, groupThreshold: 1, groups: [(3, 5)], passphrase: "TREZOR", iterationExponent: 2, extendable: extendable)[0]
            #expect(Self.bytes(try Slip39.combine(mnemonics: Array(m[1...3]), passphrase: "TREZOR")) == secret)
            // Another passphrase gives another secret, and nothing says it is wrong (by design).
            #expect(Self.bytes(try Slip39.combine(mnemonics: Array(m[1...3]))) != secret)
            #expect(try Slip39.check(mnemonic: m[0]).extendable == extendable)
        }
        #expect(Self.message { _ = try Slip39.split(secret: secret, groupThreshold: 1, groups: [(2, 2)], passphrase: "né") }?
            .contains("printable ASCII") == true)
    }

    @Test func invalidPoliciesAreRefused() {
        let s = [UInt8](repeating: 7, count: 16)
        #expect(Self.message { _ = try Slip39.split(secret: [UInt8](repeating: 1, count: 15), groupThreshold: 1, groups: [(1, 1)]) }?
            .contains("15 bytes") == true)
        #expect(Self.message { _ = try Slip39.split(secret: [UInt8](repeating: 1, count: 34), groupThreshold: 1, groups: [(1, 1)]) } != nil)
        #expect(Self.message { _ = try Slip39.split(secret: s, groupThreshold: 3, groups: [(1, 1), (2, 3)]) } != nil)
        #expect(Self.message { _ = try Slip39.split(secret: s, groupThreshold: 1, groups: [(1, 3)]) }?.contains("group 1 is 1 of 3") == true)
        #expect(Self.message { _ = try Slip39.split(secret: s, groupThreshold: 1, groups: [(2, 17)]) } != nil)
        #expect(Self.message { _ = try Slip39.split(secret: s, groupThreshold: 1, groups: [(3, 2)]) } != nil)
        #expect(Self.message { _ = try Slip39.split(secret: s, groupThreshold: 1, groups: [(2, 3)], iterationExponent: 16) } != nil)
    }

    /// A word not in the list: its position and the word are named.
    @Test func unknownWordIsNamed() throws {
        let m = try Slip39.split(secret: SecureBytes.random(count: 16), groupThreshold: 1, groups: [(2, 3)])[0]
        var words = m[0].split(separator: " ").map(String.init)
        words[4] = "zebraish"
        let text = words.joined(separator: " ")
        #expect(Self.message { _ = try Slip39.check(mnemonic: text) } == "the mnemonic: word 5 'zebraish' is not in the SLIP-0039 wordlist")
        #expect(Self.message { _ = try Slip39.combine(mnemonics: [m[1], text]) } == "mnemonic 2: word 5 'zebraish' is not in the SLIP-0039 wordlist")
    }

    /// One wrong word (a valid word in the wrong place): the checksum fails and the message
    /// points at the word, for every position of a 20- and a 33-word mnemonic.
    @Test(arguments: [16, 32])
    func typoPositionIsNamed(length: Int) throws {
        let m = try Slip39.split(secret: SecureBytes.random(count: length), groupThreshold: 1, groups: [(2, 3)])[0][1]
        let words = m.split(separator: " ").map(String.init)
        for position in stride(from: 0, to: words.count, by: length == 16 ? 1 : 4) {
            var typo = words
            let index = Slip39Wordlist.indices[typo[position]]!
            typo[position] = Slip39Wordlist.words[(index + 1 + position * 37) % 1024]
            let message = Self.message { _ = try Slip39.check(mnemonic: typo.joined(separator: " ")) }
            #expect(message == "the mnemonic: the checksum does not match (a word is wrong or two are swapped); "
                + "word \(position + 1) ('\(typo[position])') is likely wrong", "position \(position + 1)")
        }
        // Two swapped words: no single word fixes it, so no position is named.
        var swapped = words
        swapped.swapAt(6, 9)
        let message = Self.message { _ = try Slip39.check(mnemonic: swapped.joined(separator: " ")) }
        #expect(message?.hasPrefix("the mnemonic: the checksum does not match") == true)
    }

    @Test func tooFewAndMismatchedSharesAreNamed() throws {
        let secret = SecureBytes.random(count: 32)
        let g = try Slip39.split(secret: secret, groupThreshold: 2, groups: Slip39.defaultGroups)
        #expect(Self.message { _ = try Slip39.combine(mnemonics: [g[0][0], g[1][0]]) } == "recovery: group 2 needs 2 shares, 1 given")
        #expect(Self.message { _ = try Slip39.combine(mnemonics: [g[1][0], g[1][2]]) } == "recovery: 2 groups needed, 1 given")
        #expect(Self.message { _ = try Slip39.verify(mnemonics: [g[2][0]]) }
            == "recovery: 2 groups needed, 1 given; group 3 needs 2 shares, 1 given")
        #expect(Self.message { _ = try Slip39.combine(mnemonics: [g[0][0], g[1][0], g[1][1], g[2][0]]) }
            == "recovery: exactly 2 groups needed, 3 given: leave the others out; group 3 needs 2 shares, 1 given")
        #expect(Self.message { _ = try Slip39.combine(mnemonics: [g[0][0], g[1][0], g[1][1], g[1][2]]) }
            == "recovery: group 2 needs 2 shares, 3 given")
        #expect(Self.message { _ = try Slip39.combine(mnemonics: [g[0][0], g[1][1], g[1][1]]) }
            == "mnemonics 2 and 3 are the same share (share 2 of group 2): give each share once")
        #expect(Self.message { _ = try Slip39.combine(mnemonics: []) } == "recovery: no mnemonics given")
        // A share of another split of the same secret: another identifier.
        let other = try Slip39.split(secret: secret, groupThreshold: 2, groups: Slip39.defaultGroups)
        #expect(Self.message { _ = try Slip39.combine(mnemonics: [g[0][0], g[1][0], other[1][1]]) }?
            .hasPrefix("mnemonic 3 has a different identifier from mnemonic 1 (the first two words differ)") == true)
    }

    /// A share value altered (valid checksum re-made): the digest catches it.
    @Test func alteredShareFailsTheDigest() throws {
        let g = try Slip39.split(secret: SecureBytes.random(count: 32), groupThreshold: 1, groups: [(2, 3)])[0]
        var share = try Slip39Share.parse(g[1], label: "test")
        share.value[3] ^= 0x10
        let forged = share.words().joined(separator: " ")
        #expect(Self.message { _ = try Slip39.verify(mnemonics: [g[0], forged]) }
            == "group 1: the shares do not agree (digest mismatch): one of them was altered or is from another set")
    }
}
