import EdgeVaultCore
import EdgeVaultStore
/// Re-seals segment keys of the earlier unbound format (the DEK alone) as bound keys, once
/// the person has unlocked their key (docs/PROTOCOL.md §"Segment keys sealed to the person").
///
/// The facts bound are those the daemon lists now, checked as far as the person's CLI can:
/// the segment id against every chunk's AEAD (whose associated data names the segment), every
/// reading's time against the bucket, and the bucket against the stream's bucket length and
/// alignment. A segment without chunks is not bound (a daemon could hide its chunks now and
/// show them later). A key that fails is left unbound and is never re-sealed for an
/// organization. What cannot be checked is the stream name itself (the chunk format does not
/// carry it): a daemon already compromised at this first unlock could relabel an old segment
/// as another stream of the same bucket length — docs/SECURITY.md says so.
public struct SegmentKeyUpgrader {
    let client: AdminClient
    let keys: UserKeys

    public init(client: AdminClient, keys: UserKeys) {
        self.client = client
        self.keys = keys
    }

    public struct Outcome: Sendable, Equatable {
        public var upgraded = 0
        /// Segments whose listed facts did not match their own chunks: left unbound.
        public var refused: [String] = []
        public var leafIndexes: [Int64] = []
    }

    public func run() async throws -> Outcome {
        var outcome = Outcome()
        let unbound = try await client.segments(streams: [], from: 0, to: Timestamp.maxMilliseconds, unboundOnly: true)
        guard !unbound.isEmpty else { return outcome }
        let buckets = Dictionary(try await client.streams().map { ($0.name, $0.bucketSeconds * 1000) }, uniquingKeysWith: { a, _ in a })
        var batch: [(segment: String, sealedKey: [UInt8])] = []
        for segment in unbound {
            let opened = Encoding.fromBase64(segment.sealedKey).flatMap { try? SegmentKeySeal.open($0, keyPair: keys.box) }
            // Already bound (whatever the listing says): nothing to do.
            if case .bound? = opened { continue }
            guard case .unbound(let dek)? = opened, try await matches(segment, dek: dek, bucketMs: buckets[segment.stream]) else {
                outcome.refused.append(segment.id)
                continue
            }
            let bound = SegmentKeySeal.Bound(segment: segment.id, stream: segment.stream, start: segment.startMs, end: segment.endMs)
            batch.append((segment.id, try SegmentKeySeal.seal(dek, bound: bound, to: keys.box.publicKey)))
            if batch.count == KeyUpgrade.maxKeys { try await send(&batch, into: &outcome) }
        }
        if !batch.isEmpty { try await send(&batch, into: &outcome) }
        return outcome
    }

    private func send(_ batch: inout [(segment: String, sealedKey: [UInt8])], into outcome: inout Outcome) async throws {
        let r = try await client.upgradeKeys(KeyUpgrade.make(keys: batch, at: Timestamp.now(), userKeys: keys))
        outcome.upgraded += r.upgraded
        if let leaf = r.leafIndex { outcome.leafIndexes.append(leaf) }
        batch.removeAll()
    }

    /// Whether the listed bucket is one of the listed stream's, and every chunk of the segment
    /// opens under `dek` with the listed segment id and holds readings of that bucket only.
    private func matches(_ segment: AdminAPI.Segment, dek: SecureBytes, bucketMs: Int64?) async throws -> Bool {
        guard let bucketMs, bucketMs > 0, segment.endMs - segment.startMs == bucketMs, segment.startMs % bucketMs == 0 else { return false }
        struct Mismatch: Error {}
        var chunks = 0
        do {
            try await client.forEachChunk(segment: segment.id) { chunk in
                guard let readings = try? chunk.readings(dek: dek, segmentId: segment.id),
                      readings.allSatisfy({ $0.t >= segment.startMs && $0.t < segment.endMs })
                else { throw Mismatch() }
                chunks += 1
            }
        } catch is Mismatch {
            return false
        } catch let e as VaultError where e.code == .protocolError {
            return false  // pages that do not advance: the key stays unbound
        }
        return chunks > 0
    }
}
