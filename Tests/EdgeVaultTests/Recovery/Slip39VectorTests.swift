import Foundation
import Testing
import EdgeVaultCore
@testable import EdgeVaultRecovery

/// Every published SLIP-0039 test vector (Fixtures/slip39-vectors.json, README there says
/// where from): the valid sets recover the exact master secret with passphrase "TREZOR", the
/// invalid ones fail. The xprv column (BIP-32) is not checked: EdgeVault does not derive BIP-32
/// keys from the secret. docs/PROTOCOL.md §"Key recovery".
@Suite struct Slip39VectorTests {
    struct Vector: CustomTestStringConvertible, Sendable {
        var description: String
        var mnemonics: [String]
        var secretHex: String
        var testDescription: String { description }
    }

    static let vectors: [Vector] = {
        let url = Bundle.module.url(forResource: "Fixtures/slip39-vectors", withExtension: "json")!
        let rows = try! JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [[Any]]
        return rows.map { Vector(description: $0[0] as! String, mnemonics: $0[1] as! [String], secretHex: $0[2] as! String) }
    }()

    @Test func allFortyFiveVectorsAreHere() {
        #expect(Self.vectors.count == 45)
        #expect(Self.vectors.filter { !$0.secretHex.isEmpty }.count == 15)
    }

    @Test(arguments: vectors)
    func vector(_ v: Vector) throws {
        if v.secretHex.isEmpty {
            #expect(throws: VaultError.self) { _ = try Slip39.combine(mnemonics: v.mnemonics, passphrase: "TREZOR") }
            #expect(throws: VaultError.self) { _ = try Slip39.combine(mnemonics: v.mnemonics) }
        } else {
            let secret = try Slip39.combine(mnemonics: v.mnemonics, passphrase: "TREZOR")
            #expect(secret.withUnsafeBytes { Array($0) } == hex(v.secretHex))
            let info = try Slip39.verify(mnemonics: v.mnemonics)
            #expect(info.secretLength == hex(v.secretHex).count)
            for m in v.mnemonics { _ = try Slip39.check(mnemonic: m) }
        }
    }

    /// The messages of the invalid vectors say what is wrong.
    @Test func invalidVectorsSayWhy() {
        let expected: [Int: String] = [
            2: "mnemonic 1: the checksum does not match",
            3: "mnemonic 1: the share value's padding bits are not zero",
            5: "recovery: group 1 needs 2 shares, 1 given",  // 5. 2-of-3 with one share
            6: "mnemonic 2 has a different identifier from mnemonic 1",
            7: "mnemonic 2 has a different iteration exponent from mnemonic 1",
            8: "mnemonic 3 has a different group threshold from mnemonic 1",
            9: "mnemonic 2 has a different group count from mnemonic 1",
            10: "mnemonic 1: its group threshold (2) is greater than its group count (1)",
            11: "mnemonics 1 and 2 are the same share",
            12: "disagree on how many shares group 1 needs",
            13: "the shares do not agree (digest mismatch)",
            14: "recovery: 2 groups needed, 1 given",
            16: "group",
            39: "words; a share has at least 20",
            40: "is not a length a share can have",
        ]
        for (number, fragment) in expected {
            let v = Self.vectors[number - 1]
            #expect(v.secretHex.isEmpty)
            do {
                _ = try Slip39.combine(mnemonics: v.mnemonics)
                Issue.record("\(v.description) combined")
            } catch let e as VaultError {
                #expect(e.message.contains(fragment), "\(v.description): \(e.message)")
            } catch {
                Issue.record("\(error)")
            }
        }
    }
}
