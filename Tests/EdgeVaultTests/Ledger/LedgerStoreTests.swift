import Foundation
import GRDB
import NIOCore
import Logging
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

private func leaf(_ n: Int) -> LedgerLeaf {
    LedgerLeaf(kind: .orgSeen, fields: ["n": .number("\(n)")], org: "org\(n % 3)")
}

@Suite("Ledger store and checkpoints")
struct LedgerStoreTests {
    @Test("init writes the genesis leaf and a signed first checkpoint")
    func genesis() async throws {
        let vault = try TestVault()
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: Logger(label: "t"))
        let leaves = try await vault.store.leaves(from: 0, limit: 10)
        #expect(leaves.count == 1)
        let g = try LedgerLeaf(bytes: leaves[0].data)
        #expect(g.type == "vault.genesis")
        #expect(g.json["userKeyId"]?.stringValue == vault.keys.publicKeys.keyId)
        #expect(g.json["logKey"]?.stringValue == ledger.verifier.text)
        #expect(try Encoding.fromBase64url(#require(g.json["salt"]?.stringValue))?.count == 16)
        let cp = try #require(try await vault.store.latestCheckpoint())
        #expect(try Checkpoint.open(cp.note, verifier: ledger.verifier) == Checkpoint(origin: ledger.origin, size: 1, root: Merkle.leafHash(leaves[0].data)))
    }

    @Test("Appends from several tasks give one consistent tree whose proofs verify")
    func concurrentAppends() async throws {
        let vault = try TestVault()
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: Logger(label: "t"))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<25 { try await vault.store.appendLeaves([leaf(t * 100 + i)]) }
                }
            }
            try await group.waitForAll()
        }
        let size = try await vault.store.ledgerSize()
        #expect(size == 201)
        var builder = MerkleTreeBuilder()
        for l in try await vault.store.leaves(from: 0, limit: 1000) {
            #expect(l.storedHash == Merkle.leafHash(l.data))
            builder.append(leafHash: Merkle.leafHash(l.data))
        }
        #expect(try await vault.store.treeHead().root == builder.root)
        let cp = try await ledger.checkpointNow()
        #expect(cp.size == 201)
        for index in [Int64(0), 100, 200] {
            let receipt = try await ledger.receipt(index: index)
            let verified = try receipt.verify(logKey: ledger.verifier)
            #expect(verified.checkpoint.size == 201)
        }
        // Every checkpoint is kept.
        #expect(try await vault.store.checkpoints(from: 0, limit: 10).map(\.size) == [1, 201])
    }

    @Test("A transaction that fails after appending leaves no trace: the log stays verifiable")
    func rollback() async throws {
        let vault = try TestVault()
        try await vault.store.appendLeaves([leaf(1), leaf(2), leaf(3)])
        let before = try await vault.store.treeHead()
        struct Crash: Error {}
        #expect(throws: Crash.self) {
            try vault.store.writer.write { db in
                try VaultStore.appendLeaf(leaf(4), in: db)
                try VaultStore.appendLeaf(leaf(5), in: db)
                throw Crash()
            }
        }
        #expect(try await vault.store.treeHead() == before)
        #expect(try await vault.store.writer.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM ledger_hash WHERE level = 0") } == 4)
        try await vault.store.appendLeaves([leaf(6)])
        let proof = try await vault.store.inclusionProof(index: 4, size: 5)
        var firstFive = MerkleTreeBuilder()
        for i in 0..<5 { firstFive.append(leafHash: Merkle.leafHash(try #require(try await vault.store.leaf(at: Int64(i))))) }
        try Merkle.verifyInclusion(leafHash: Merkle.leafHash(try #require(try await vault.store.leaf(at: 4))), index: 4, size: 5, proof: proof,
                                   root: firstFive.root)
    }

    @Test("anchor signs at once when its leaf is not yet in a checkpoint; a receipt fails against another log key")
    func anchorAndReceipt() async throws {
        let vault = try TestVault()
        let ledger = try await LedgerService(store: vault.store, dataDir: vault.dataDir, logger: Logger(label: "t"))
        let index = try await vault.store.appendLeaves([leaf(9)])[0]
        let cp = try await ledger.anchor(index: index)
        #expect(cp.size == index + 1)
        let receipt = try await ledger.receipt(index: index)
        #expect(try receipt.verify(logKey: ledger.verifier).leaf.type == "org.seen")
        let otherKey = try SignedNote.Verifier(NoteKeys.verifierKey(name: ledger.origin, publicKey: SigningKeyPair.generate().publicKey.bytes))
        #expect(throws: VaultError.self) { try receipt.verify(logKey: otherKey) }
        var forged = receipt
        forged.index = 0
        #expect(throws: VaultError.self) { try forged.verify(logKey: ledger.verifier) }
        await #expect(throws: VaultError.self) { try await ledger.anchor(index: 99) }
        // Filters for `log show`.
        #expect(try await vault.store.leaves(from: 0, limit: 10, type: "org.seen").count == 1)
        #expect(try await vault.store.leaves(from: 0, limit: 10, org: "org0").count == 1)
    }
}

@Suite("Raw leaf pages")
struct RawLeafPageTests {
    @Test("A raw page round-trips and a truncated one is refused")
    func roundTrip() throws {
        let leaves = (0..<5).map { i in
            VaultStore.StoredLeaf(index: Int64(i) + 1_000_000_000_000, data: Sodium.randomBytes(i * 50), storedHash: Sodium.randomBytes(32))
        }
        var buffer = ByteBuffer()
        for l in leaves { RawLeafPage.write(index: l.index, data: l.data, storedHash: l.storedHash, into: &buffer) }
        let bytes = Array(buffer.readableBytesView)
        let parsed = try RawLeafPage.entries(bytes).map {
            VaultStore.StoredLeaf(index: $0.index, data: Array(bytes[$0.data]), storedHash: Array(bytes[$0.hash]))
        }
        #expect(parsed == leaves)
        for cut in [1, 12, 40, bytes.count - 1] {
            #expect(throws: VaultError.self) { try RawLeafPage.entries(Array(bytes.prefix(cut))) }
        }
    }
}
