import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore

/// SplitMix64: reproducible cases without a dependency.
private struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

@Suite("The grant-scope rule")
struct GrantScopeTests {
    @Test("covers: whole buckets of the named streams inside [from, to); a cut bucket or another stream is not covered")
    func coversWholeBucketsOnly() {
        let hour: Int64 = 3_600_000
        let scope = GrantScope(streams: ["a"], from: 10 * hour, to: 13 * hour + 1)
        #expect(scope.covers(stream: "a", bucketStart: 10 * hour, bucketEnd: 11 * hour))
        #expect(scope.covers(stream: "a", bucketStart: 12 * hour, bucketEnd: 13 * hour))
        #expect(!scope.covers(stream: "a", bucketStart: 13 * hour, bucketEnd: 14 * hour), "cut by to")
        #expect(!scope.covers(stream: "a", bucketStart: 9 * hour, bucketEnd: 10 * hour))
        #expect(!scope.covers(stream: "b", bucketStart: 10 * hour, bucketEnd: 11 * hour))
        #expect(scope.wholeBuckets(bucketMilliseconds: hour) == (10 * hour, 13 * hour))
        #expect(GrantScope(streams: ["a"], from: 10 * hour + 1, to: 11 * hour).wholeBuckets(bucketMilliseconds: hour) == (11 * hour, 11 * hour), "none fits")
        #expect(GrantScope(streams: ["a"], from: 10 * hour, to: 11 * hour).wholeBuckets(bucketMilliseconds: 86_400_000).0
                == GrantScope(streams: ["a"], from: 10 * hour, to: 11 * hour).wholeBuckets(bucketMilliseconds: 86_400_000).1)
    }

    @Test("The store's SQL filter selects exactly the segments GrantScope.covers, on 300 generated scopes over 900 segments of three bucket lengths")
    func sqlAgreesWithRule() async throws {
        let vault = try TestVault()
        var rng = SplitMix(state: 20_261_127)
        let base = Timestamp.parseRFC3339("2026-01-01T00:00:00Z")!
        let streams: [(String, Int64)] = [("a/min", 60), ("b/hour", 3600), ("c/day", 86_400)]
        var ids: [Int64: String] = [:]
        for (name, seconds) in streams {
            ids[try await vault.store.createStream(StreamRecord(id: nil, name: name, kind: "", unit: "", bucketSeconds: seconds, createdAt: base)).id!] = name
        }
        var commit = VaultStore.IngestCommit()
        var all: [(id: String, stream: String, start: Int64, end: Int64)] = []
        var ordinal = try await vault.store.nextSegmentOrdinal()
        for (streamId, name) in ids {
            let bucket = streams.first { $0.0 == name }!.1 * 1000
            for _ in 0..<300 {
                let start = base + Int64.random(in: 0..<200, using: &rng) * bucket  // repeats: several segments per bucket
                let id = "seg\(ordinal)"
                commit.newSegments.append(SegmentRecord(ordinal: ordinal, id: id, streamId: streamId, bucketStart: start, bucketEnd: start + bucket,
                                                        sealedKey: Data([1]), openedAt: base, closedAt: base, readingCount: 0, chunkCount: 0,
                                                        minTime: nil, maxTime: nil))
                all.append((id, name, start, start + bucket))
                ordinal += 1
            }
        }
        try await vault.store.commit(commit)
        let span = 200 * 86_400_000 as Int64
        for _ in 0..<300 {
            let chosen = streams.map(\.0).filter { _ in Bool.random(using: &rng) }
            // Bounds at bucket edges half of the time, anywhere otherwise.
            func point() -> Int64 {
                let t = base + Int64.random(in: -86_400_000...span, using: &rng)
                return Bool.random(using: &rng) ? t - t % 3_600_000 : t
            }
            let (x, y) = (point(), point())
            let scope = GrantScope(streams: chosen, from: min(x, y), to: max(x, y) + 1)
            let bySQL = Set(try await vault.store.segmentsInScope(scope).map(\.id))
            let byRule = Set(all.filter { scope.covers(stream: $0.stream, bucketStart: $0.start, bucketEnd: $0.end) }.map(\.id))
            #expect(bySQL == byRule, "\(scope)")
        }
    }
}
