import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

/// Stored hashes in memory, as the store keeps them: built by appending leaf hashes.
typealias ArrayHashReader = MemoryMerkleLog

private func hexes(_ a: Any?) -> [[UInt8]] { (a as! [String]).map { hex($0) } }

@Suite("Merkle tree (RFC 6962 / RFC 9162)")
struct MerkleTests {
    let v: [String: Any]
    let reader: ArrayHashReader

    init() throws {
        v = try Fixtures.json("ledger-vectors")
        reader = ArrayHashReader(leafHashes: (v["leaves"] as! [String]).map { Merkle.leafHash(hex($0)) })
    }

    @Test("Tree roots for sizes 0…8 match the published RFC 6962 test data")
    func roots() throws {
        let roots = hexes(v["roots"])
        for size in 0...8 {
            #expect(try Merkle.treeHash(size: Int64(size), reader: reader) == roots[size], "size \(size)")
        }
        #expect(Merkle.emptyRoot == roots[0])
        var builder = MerkleTreeBuilder()
        for (i, leaf) in (v["leaves"] as! [String]).enumerated() {
            builder.append(leafHash: Merkle.leafHash(hex(leaf)))
            #expect(builder.root == roots[i + 1])
        }
    }

    @Test("Inclusion proofs equal the published ones and verify")
    func inclusion() throws {
        let roots = hexes(v["roots"])
        for case let p as [String: Any] in v["inclusion"] as! [Any] {
            let index = Int64(p["index"] as! Int), size = Int64(p["size"] as! Int)
            let proof = try Merkle.inclusionProof(index: index, size: size, reader: reader)
            #expect(proof == hexes(p["proof"]), "index \(index) size \(size)")
            let leaf = Merkle.leafHash(hex((v["leaves"] as! [String])[Int(index)]))
            try Merkle.verifyInclusion(leafHash: leaf, index: index, size: size, proof: proof, root: roots[Int(size)])
        }
    }

    @Test("Consistency proofs equal the published ones and verify")
    func consistency() throws {
        let roots = hexes(v["roots"])
        for case let p as [String: Any] in v["consistency"] as! [Any] {
            let first = Int64(p["first"] as! Int), second = Int64(p["second"] as! Int)
            let proof = try Merkle.consistencyProof(first: first, second: second, reader: reader)
            #expect(proof == hexes(p["proof"]), "\(first) → \(second)")
            try Merkle.verifyConsistency(first: first, second: second, proof: proof, firstRoot: roots[Int(first)], secondRoot: roots[Int(second)])
        }
    }

    @Test("Bad proof arguments are refused")
    func badArguments() {
        #expect(throws: Merkle.ProofError.self) { try Merkle.inclusionProof(index: 8, size: 8, reader: reader) }
        #expect(throws: Merkle.ProofError.self) { try Merkle.inclusionProof(index: -1, size: 8, reader: reader) }
        #expect(throws: Merkle.ProofError.self) { try Merkle.consistencyProof(first: 0, second: 8, reader: reader) }
        #expect(throws: Merkle.ProofError.self) { try Merkle.consistencyProof(first: 5, second: 4, reader: reader) }
        #expect(throws: Merkle.ProofError.self) { try Merkle.treeHash(size: 9, reader: reader) }
    }

    @Test("Property: for random sizes every inclusion and consistency proof verifies, and fails with any one hash flipped",
          arguments: [1, 2, 3, 7, 64, 255, 1000, 2049, 3001])
    func properties(size: Int) throws {
        var rng = SystemRandomNumberGenerator()
        let leaves = (0..<size).map { _ in Merkle.leafHash(Sodium.randomBytes(12)) }
        var r = ArrayHashReader(leafHashes: [])
        var roots: [Merkle.Hash] = [Merkle.emptyRoot]
        var builder = MerkleTreeBuilder()
        for h in leaves {
            r.append(h)
            builder.append(leafHash: h)
            roots.append(builder.root)
        }
        let n = Int64(size)
        let root = roots[size]
        for i in 0..<n {
            let proof = try Merkle.inclusionProof(index: i, size: n, reader: r)
            try Merkle.verifyInclusion(leafHash: leaves[Int(i)], index: i, size: n, proof: proof, root: root)
            if !proof.isEmpty {
                var bad = proof
                let k = Int.random(in: 0..<bad.count, using: &rng)
                bad[k][Int.random(in: 0..<32, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                #expect(throws: Merkle.ProofError.self) { try Merkle.verifyInclusion(leafHash: leaves[Int(i)], index: i, size: n, proof: bad, root: root) }
            }
            #expect(throws: Merkle.ProofError.self) { try Merkle.verifyInclusion(leafHash: leaves[Int(i)], index: i, size: n, proof: proof + [root], root: root) }
        }
        for m in 1...n {
            let proof = try Merkle.consistencyProof(first: m, second: n, reader: r)
            try Merkle.verifyConsistency(first: m, second: n, proof: proof, firstRoot: roots[Int(m)], secondRoot: root)
            if !proof.isEmpty {
                var bad = proof
                let k = Int.random(in: 0..<bad.count, using: &rng)
                bad[k][Int.random(in: 0..<32, using: &rng)] ^= 1 << UInt8.random(in: 0..<8, using: &rng)
                #expect(throws: Merkle.ProofError.self) { try Merkle.verifyConsistency(first: m, second: n, proof: bad, firstRoot: roots[Int(m)], secondRoot: root) }
            }
        }
    }

    @Test("A proof reads O(log n) stored hashes")
    func logarithmicReads() throws {
        final class Counting: MerkleHashReader {
            let inner: ArrayHashReader
            var reads = 0
            init(_ inner: ArrayHashReader) { self.inner = inner }
            func hashes(_ ids: [Merkle.NodeID]) throws -> [Merkle.Hash] {
                reads += ids.count
                return try inner.hashes(ids)
            }
        }
        let counting = Counting(ArrayHashReader(leafHashes: (0..<5000).map { Merkle.leafHash([UInt8(truncatingIfNeeded: $0)]) }))
        _ = try Merkle.inclusionProof(index: 1234, size: 4999, reader: counting)
        #expect(counting.reads <= 2 * 13)
        counting.reads = 0
        _ = try Merkle.consistencyProof(first: 3333, second: 4999, reader: counting)
        #expect(counting.reads <= 3 * 13)
    }
}

@Suite("C2SP signed notes and checkpoints")
struct SignedNoteTests {
    let v: [String: String]

    init() throws {
        v = try Fixtures.json("ledger-vectors")["note"] as! [String: String]
    }

    @Test("Signing reproduces the published signed note; our signer-key parser reads its key")
    func signReproducesVector() throws {
        var key = Array(v["signerKey"]!.utf8)
        let (name, keyPair) = try NoteKeys.parseSignerKey(SecureBytes(wiping: &key))
        #expect(name == "PeterNeumann")
        #expect(NoteKeys.verifierKey(name: name, publicKey: keyPair.publicKey.bytes) == v["verifierKey"]!)
        #expect(SignedNote.sign(text: v["text"]!, name: name, keyPair: keyPair) == v["signed"]!)
    }

    @Test("The verifier accepts the published note and rejects it when altered")
    func openVector() throws {
        let verifier = try SignedNote.Verifier(v["verifierKey"]!)
        #expect(try SignedNote.open(v["signed"]!, verifiers: [verifier]) == v["text"]!)
        let altered = v["signed"]!.replacingOccurrences(of: "cryptography", with: "cryptographY")
        #expect(throws: VaultError.self) { try SignedNote.open(altered, verifiers: [verifier]) }
        let badSig = v["signed"]!.replacingOccurrences(of: "x08go", with: "x08gp")
        #expect(throws: VaultError.self) { try SignedNote.open(badSig, verifiers: [verifier]) }
        let other = try SignedNote.Verifier(NoteKeys.verifierKey(name: "PeterNeumann", publicKey: SigningKeyPair.generate().publicKey.bytes))
        #expect(throws: VaultError.self) { try SignedNote.open(v["signed"]!, verifiers: [other]) }
        #expect(throws: VaultError.self) { try SignedNote.open(v["text"]!, verifiers: [verifier]) }
        #expect(throws: VaultError.self) { try SignedNote.Verifier("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW") }
    }

    @Test("A checkpoint round-trips through a signed note and is bound to its origin")
    func checkpoint() throws {
        let kp = SigningKeyPair.generate()
        let origin = "edgevault.local/abcdefghijklmnop"
        let verifier = try SignedNote.Verifier(NoteKeys.verifierKey(name: origin, publicKey: kp.publicKey.bytes))
        let cp = Checkpoint(origin: origin, size: 20_852_163, root: Hash.sha256(Array("x".utf8)))
        let note = SignedNote.sign(text: cp.text, name: origin, keyPair: kp)
        #expect(note.hasPrefix("\(origin)\n20852163\n\(Encoding.base64(cp.root))\n\n\u{2014} \(origin) "))
        #expect(try Checkpoint.open(note, verifier: verifier) == cp)
        #expect(throws: VaultError.self) { try Checkpoint(text: "origin\n-1\n\(Encoding.base64(cp.root))\n") }
        #expect(throws: VaultError.self) { try Checkpoint(text: "origin\n01\n\(Encoding.base64(cp.root))\n") }
        #expect(throws: VaultError.self) { try Checkpoint(text: "origin\n1\nnotbase64\n") }
    }
}
