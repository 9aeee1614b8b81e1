/// Re-seals segment keys of the earlier unbound format (the DEK alone) as bound keys, once
/// the person has unlocked their key (docs/PROTOCOL.md §"Segment keys sealed to the person").
///
/// The facts bound are those the daemon lists now, checked as far as the person's CLI can:
/// the segment id against the first chunk's AEAD (whose associated data names the segment) and
/// the chunk's readings against the bucket. A key that fails is left unbound and is never
/// re-sealed for an organization.
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
        var batch: [(segment: String, sealedKey: [UInt8])] = []
        for segment in unbound {
            let opened = Encoding.fromBase64(segment.sealedKey).flatMap { try? SegmentKeySeal.open($0, keyPair: keys.box) }
            // Already bound (whatever the listing says): nothing to do.
            if case .bound? = opened { continue }
            guard case .unbound(let dek)? = opened, try await matches(segment, dek: dek) else {
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
        outcome.leafIndexes.append(r.leafIndex)
        batch.removeAll()
    }

    /// Whether the segment's first chunk opens under `dek` with the listed segment id, and its
    /// readings lie in the listed bucket (a segment without chunks has nothing to contradict).
    private func matches(_ segment: AdminAPI.Segment, dek: SecureBytes) async throws -> Bool {
        guard segment.endMs > segment.startMs else { return false }
        let page = try await client.chunks(segment: segment.id, after: -1, limit: 1)
        guard let chunk = page.chunks.first else { return true }
        guard let readings = try? chunk.readings(dek: dek, segmentId: segment.id) else { return false }
        return readings.allSatisfy { $0.t >= segment.startMs && $0.t < segment.endMs }
    }
}
