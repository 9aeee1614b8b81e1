import Foundation
import Logging
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

private func batch(_ lines: [(String, Int64, String)]) throws -> ReadingBatch {
    var b = ReadingBatch()
    for (s, t, v) in lines { try b.append(stream: s, t: t, value: Array(v.utf8), line: 1) }
    return b
}

/// Decrypts everything stored for `stream` with the person's keys, as export does.
private func storedReadings(_ vault: TestVault, stream: String) async throws -> [(Int64, String)] {
    let s = try #require(try await vault.store.streams().first { $0.name == stream })
    var out: [(Int64, String)] = []
    for seg in try await vault.store.segments(streamIds: [s.id!], from: 0, to: Timestamp.maxMilliseconds) {
        let opened = try SegmentKeySeal.open([UInt8](seg.sealedKey), keyPair: vault.keys.box)
        guard case .bound(let bound, let dek) = opened else { throw CryptoError.invalidKey }
        #expect(bound == .init(segment: seg.id, stream: stream, start: seg.bucketStart, end: seg.bucketEnd), "the key is bound to its segment")
        var seen = Set<Int64>()
        for c in try await vault.store.chunks(segment: seg.ordinal!, after: -1, limit: 10_000) {
            #expect(seen.insert(c.seq).inserted, "a seq is used once per segment")
            let plain = try ChunkFormat.open([UInt8](c.ciphertext), dek: dek, segmentId: seg.id, seq: c.seq)
            #expect(plain.count <= ChunkFormat.maxPlaintextBytes)
            let rs = try ChunkFormat.readings(in: plain)
            #expect(Int64(rs.count) == c.readingCount)
            out += rs.map { ($0.t, String(decoding: $0.value, as: UTF8.self)) }
        }
    }
    return out.sorted { $0.0 < $1.0 }
}

private let logger = Logger(label: "test")

@Suite("Segment manager: segments, chunks and group commit")
struct SegmentManagerTests {
    @Test("Ingested readings are stored as chunks only the person's box key can open")
    func roundTrip() async throws {
        let vault = try TestVault()
        let manager = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
        let lines = (0..<5000).map { ("home/t", Int64(1_700_000_000_000 + $0 * 1000), "{\"v\":\($0),\"pad\":\"\(String(repeating: "p", count: 20))\"}") }
        #expect(try await manager.ingest(batch(lines)) == 5000)
        let stored = try await storedReadings(vault, stream: "home/t")
        #expect(stored.map(\.0) == lines.map(\.1))
        #expect(stored.map(\.1) == lines.map(\.2))
        let other = BoxKeyPair.generate()
        let seg = try #require(try await vault.store.segments(streamIds: [1], from: 0, to: .max).first)
        #expect(throws: CryptoError.authenticationFailed) { try SealedBox.open([UInt8](seg.sealedKey), keyPair: other) }
        #expect(seg.chunkCount > 1, "5000 readings of ~50 bytes span several 64 KiB chunks")
    }

    @Test("Readings land in whole buckets; past buckets close right after their commit, current ones stay open")
    func buckets() async throws {
        let vault = try TestVault()
        let manager = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
        let now = Timestamp.now()
        let hour: Int64 = 3_600_000
        let past = (now / hour - 5) * hour
        try await manager.ingest(batch([("s", past + 10, "1"), ("s", past + hour + 10, "2"), ("s", now, "3")]))
        let segments = try await vault.store.segments(streamIds: [1], from: 0, to: .max)
        #expect(segments.count == 3)
        #expect(segments.map(\.bucketStart) == [past, past + hour, now / hour * hour])
        #expect(segments.filter { $0.closedAt == nil }.count == 1)
        #expect(await manager.openSegments().map(\.bucketStart) == [now / hour * hour])
        await manager.shutdown()
        #expect(await manager.openSegments().isEmpty)
        #expect(try await vault.store.segments(streamIds: [1], from: 0, to: .max).allSatisfy { $0.closedAt != nil })
        await #expect(throws: VaultError.self) { try await manager.ingest(batch([("s", now, "4")])) }
    }

    @Test("After a restart no earlier segment is reopened: a reading for the same bucket gets a new segment")
    func restartOpensNewSegment() async throws {
        let vault = try TestVault()
        let now = Timestamp.now()
        do {
            let first = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
            try await first.ingest(batch([("s", now, "1")]))
            #expect(await first.openSegments().count == 1)
            // simulate a crash: no shutdown, the manager and its keys just go away
        }
        let second = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
        #expect(await second.openSegments().isEmpty)
        #expect(try await vault.store.segments(streamIds: [1], from: 0, to: .max).allSatisfy { $0.closedAt != nil })
        try await second.ingest(batch([("s", now + 1, "2")]))
        let segments = try await vault.store.segments(streamIds: [1], from: 0, to: .max)
        #expect(segments.count == 2)
        #expect(Set(segments.map(\.id)).count == 2)
        #expect(Set(segments.map(\.bucketStart)).count == 1)
        #expect(try await storedReadings(vault, stream: "s").map(\.1) == ["1", "2"])
    }

    @Test("Concurrent callers are committed together and every acknowledged reading is stored")
    func groupCommit() async throws {
        let vault = try TestVault()
        let manager = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
        let base = Timestamp.now() / 3_600_000 * 3_600_000
        try await withThrowingTaskGroup(of: Int.self) { group in
            for task in 0..<16 {
                group.addTask {
                    var n = 0
                    for call in 0..<20 {
                        let t = base + Int64(task * 1000 + call)
                        n += try await manager.ingest(batch([("s\(task % 2)", t, "\(task * 1000 + call)")]))
                    }
                    return n
                }
            }
            var total = 0
            for try await n in group { total += n }
            #expect(total == 320)
        }
        let stored = try await storedReadings(vault, stream: "s0") + storedReadings(vault, stream: "s1")
        #expect(stored.count == 320)
        #expect(Set(stored.map(\.1)).count == 320)
        let counters = await manager.counters
        #expect(counters.readingsIngested == 320)
        #expect(counters.chunksWritten <= 320)
    }

    @Test("With automatic creation off, an unknown stream rejects the whole batch and stores nothing")
    func unknownStream() async throws {
        let vault = try TestVault()
        let manager = try await SegmentManager(store: vault.store, settings: .init(autoCreateStreams: false), logger: logger)
        _ = try await manager.addStream(name: "known", bucketSeconds: 60)
        do {
            try await manager.ingest(batch([("known", 1000, "1"), ("unknown", 1000, "2")]))
            Issue.record("an unknown stream must be refused")
        } catch let e as VaultError {
            #expect(e.code == .unknownStream)
            #expect(e.message.contains("unknown"))
        }
        #expect(try await vault.store.segments(streamIds: [1], from: 0, to: .max).isEmpty)
        try await manager.ingest(batch([("known", 1000, "1")]))
        #expect(try await storedReadings(vault, stream: "known").count == 1)
        await #expect(throws: VaultError.self) { try await manager.addStream(name: "known") }
        await #expect(throws: VaultError.self) { try await manager.addStream(name: "bad name") }
        await #expect(throws: VaultError.self) { try await manager.addStream(name: "ok", bucketSeconds: 0) }
    }

    @Test("Chunk format: nonce is the little-endian seq then zeros; segment id and seq are authenticated")
    func chunkFormat() throws {
        #expect(ChunkFormat.nonce(seq: 0x0102) == [0x02, 0x01] + [UInt8](repeating: 0, count: 22))
        #expect(ChunkFormat.associatedData(segmentId: "abc", seq: 7) == Array("edgevault/chunk/v1:abc:7".utf8))
        let dek = SecureBytes.random(count: 32)
        let ct = ChunkFormat.seal(Array("{\"t\":1,\"v\":2}\n".utf8), dek: dek, segmentId: "seg", seq: 3)
        #expect(try ChunkFormat.open(ct, dek: dek, segmentId: "seg", seq: 3) == Array("{\"t\":1,\"v\":2}\n".utf8))
        #expect(throws: CryptoError.self) { try ChunkFormat.open(ct, dek: dek, segmentId: "seg", seq: 4) }
        #expect(throws: CryptoError.self) { try ChunkFormat.open(ct, dek: dek, segmentId: "seh", seq: 3) }
    }
}

@Suite("Retention in the store")
struct RetentionStoreTests {
    @Test("A pass deletes at most the batch size per stream and leaf; the next pass takes the rest; open segments and other streams stay")
    func batches() async throws {
        let vault = try TestVault()
        let manager = try await SegmentManager(store: vault.store, settings: .init(), logger: logger)
        let hour: Int64 = 3_600_000
        let old: Int64 = 1_700_000_000_000 - 1_700_000_000_000 % hour
        // Three past buckets of "a/t" (closed right after their commit) and one of "b/t".
        try await manager.ingest(batch((0..<3).map { ("a/t", old + Int64($0) * hour, "\($0)") } + [("b/t", old, "9")]))
        _ = try await vault.store.setRetention(stream: "a/t", seconds: 86_400)
        let now = old + 10 * 86_400_000
        let first = try await vault.store.deleteExpiredSegments(now: now, limit: 2)
        #expect(first.map(\.stream) == ["a/t"])
        #expect(first[0].segments.count == 2 && first[0].readings == 2)
        let second = try await vault.store.deleteExpiredSegments(now: now, limit: 2)
        #expect(second.map { $0.segments.count } == [1])
        #expect(try await vault.store.deleteExpiredSegments(now: now, limit: 2).isEmpty)
        #expect(try await storedReadings(vault, stream: "a/t").isEmpty)
        #expect(try await storedReadings(vault, stream: "b/t").map(\.1) == ["9"])
        // Each pass left one data.deleted leaf naming its segments.
        for d in first + second {
            let leaf = try LedgerLeaf(bytes: try #require(try await vault.store.leaf(at: d.leafIndex)))
            #expect(leaf.type == "data.deleted")
            #expect(leaf.json["segments"] == .array(d.segments.map { .string($0) }))
        }
        #expect(try await vault.store.setRetention(stream: "a/t", seconds: nil).retentionSeconds == nil)
        await #expect(throws: VaultError.self) { try await vault.store.setRetention(stream: "no/such", seconds: 60) }
        await #expect(throws: VaultError.self) { try await vault.store.setRetention(stream: "a/t", seconds: 0) }
    }
}
