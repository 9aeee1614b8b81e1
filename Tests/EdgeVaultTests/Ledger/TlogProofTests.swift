import Foundation
import Testing
@testable import EdgeVaultCore

@Suite("C2SP tlog-proof@v1 and receipts")
struct TlogProofTests {
    let log = TestLog(size: 11)

    func receipt(index: Int64, leaf: [UInt8], size: Int64 = 11) throws -> Receipt {
        var reader = ArrayHashReader(leafHashes: [])
        for i in 0..<size {
            let h = try i == index ? Merkle.leafHash(leaf) : log.reader.hashes([Merkle.NodeID(level: 0, index: i)])[0]
            reader.append(h)
        }
        let root = try Merkle.treeHash(size: size, reader: reader)
        let proof = try Merkle.inclusionProof(index: index, size: size, reader: reader)
        return Receipt(index: index, leaf: Encoding.base64(leaf), proof: proof.map { Encoding.base64($0) }, checkpoint: log.note(size, root: root))
    }

    var leaf: [UInt8] { Array(#"{"salt":"AAAAAAAAAAAAAAAAAAAAAA","time":"2025-01-01T00:00:00Z","type":"vault.test"}"#.utf8) }

    @Test("A receipt becomes a tlog-proof file (leaf bytes in extra) and comes back equal")
    func receiptRoundTrip() throws {
        let r = try receipt(index: 7, leaf: leaf)
        let text = try r.tlogProof.text
        #expect(text.hasPrefix("c2sp.org/tlog-proof@v1\nextra \(Encoding.base64(leaf))\nindex 7\n"))
        #expect(text.hasSuffix("\n\n" + r.checkpoint))
        let back = try TlogProof(text: text)
        #expect(try Receipt(tlogProof: back) == r)
        #expect(try r.verify(logKey: log.verifier).checkpoint.size == 11)
    }

    @Test("A proof verifies against the log key and its leaf hash; another leaf or a flipped hash fails")
    func verify() throws {
        let p = try receipt(index: 3, leaf: leaf).tlogProof
        #expect(try p.verify(leafHash: Merkle.leafHash(leaf), logKey: log.verifier).size == 11)
        #expect(throws: VaultError.self) { try p.verify(leafHash: Merkle.leafHash(leaf + [0x20]), logKey: log.verifier) }
        var bad = p
        bad.proof[0][5] ^= 0x80
        #expect(throws: VaultError.self) { try bad.verify(leafHash: Merkle.leafHash(leaf), logKey: log.verifier) }
        #expect(throws: VaultError.self) { try p.verify(leafHash: Merkle.leafHash(leaf), logKey: TestLog(size: 0).verifier) }
    }

    @Test("With a policy, a cosigned proof verifies and an uncosigned one fails the quorum")
    func withPolicy() throws {
        let w = try Cosigner(name: "witness.example/w", keyPair: .generate())
        let policy = try TlogPolicy(text: "witness w \(w.verifier.text)\nquorum w\n")
        var p = try receipt(index: 0, leaf: leaf).tlogProof
        #expect(throws: VaultError.self) { try p.verify(leafHash: Merkle.leafHash(leaf), logKey: log.verifier, policy: policy) }
        p.checkpoint = try SignedNote.appending(w.cosign(checkpointText: SignedNote.parse(p.checkpoint).text, time: 42), to: p.checkpoint)
        #expect(try p.verify(leafHash: Merkle.leafHash(leaf), logKey: log.verifier, policy: policy).size == 11)
        let r = try Receipt(tlogProof: TlogProof(text: p.text))
        #expect(try r.verify(logKey: log.verifier, policy: policy).checkpoint.size == 11)
    }

    @Test("The spec's example: header, extra, index and proof lines parse (its elided signatures replaced by a real checkpoint)")
    func specExample() throws {
        let spec = try C2SPVectors.load()["tlogProofSpec"] as! String
        let head = String(spec[..<spec.range(of: "\n\n")!.lowerBound]) + "\n\n"
        let p = try TlogProof(text: head + log.note(11))
        #expect(p.index == 73_894)
        #expect(p.proof.count == 5)
        #expect(String(decoding: p.extra ?? [], as: UTF8.self).hasPrefix("age-v1.2.1-darwin-arm64.tar.gz"))
        #expect(p.text == head + log.note(11))
    }

    @Test("Malformed proofs are refused", arguments: [
        "c2sp.org/tlog-proof@v2\nindex 1\n\n", "c2sp.org/tlog-proof@v1\nindex 01\n\n", "c2sp.org/tlog-proof@v1\nextra !!\nindex 1\n\n",
        "c2sp.org/tlog-proof@v1\nindex 1\nAAAA\n\n", "c2sp.org/tlog-proof@v1\nindex 1\n", "c2sp.org/tlog-proof@v1\n\n",
    ])
    func malformed(_ head: String) {
        #expect(throws: VaultError.self) { try TlogProof(text: head + log.note(11)) }
    }

    @Test("64 proof lines are refused, 63 parse")
    func proofLimit() throws {
        let hashes = (0..<64).map { _ in Encoding.base64(Sodium.randomBytes(32)) + "\n" }
        #expect(try TlogProof(text: "c2sp.org/tlog-proof@v1\nindex 1\n" + hashes.prefix(63).joined() + "\n" + log.note(11)).proof.count == 63)
        #expect(throws: VaultError.self) { try TlogProof(text: "c2sp.org/tlog-proof@v1\nindex 1\n" + hashes.joined() + "\n" + log.note(11)) }
    }
}
