import EdgeVaultCore
import EdgeVaultStore
import Logging

/// Owns the open segments: their DEKs (in guarded memory), chunk buffers and sequence
/// numbers, and turns batches of readings into encrypted chunks committed in group commits.
///
/// Invariants (docs/PROTOCOL.md §"Segments and chunks"):
/// - one fresh DEK per segment, sealed to the person's box key when the segment opens;
/// - a DEK lives only while its segment is open and is wiped on close; after a restart no
///   earlier segment can be reopened (a late reading opens a new segment for its bucket);
/// - a `seq` is never used twice under one DEK, not even after a failed commit;
/// - `ingest` returns only after its readings are committed (acknowledged = durable).
public actor SegmentManager {
    public struct Settings: Sendable {
        public var autoCreateStreams: Bool
        public var defaultBucketSeconds: Int64
        public var graceMilliseconds: Int64

        public init(autoCreateStreams: Bool = true, defaultBucketSeconds: Int64 = 3600, graceMilliseconds: Int64 = 300_000) {
            self.autoCreateStreams = autoCreateStreams
            self.defaultBucketSeconds = defaultBucketSeconds
            self.graceMilliseconds = graceMilliseconds
        }
    }

    struct Key: Hashable {
        let stream: Int64
        let bucketStart: Int64
    }

    final class OpenSegment {
        let ordinal: Int64
        let id: String
        let stream: StreamRecord
        let bucketStart: Int64
        let bucketEnd: Int64
        let dek: SecureBytes
        let openedAt: Int64
        var persisted = false
        var nextSeq: Int64 = 0
        var buffer: [UInt8] = []
        var bufferReadings: Int64 = 0
        var bufferMin: Int64 = .max
        var bufferMax: Int64 = .min
        var readings: Int64 = 0

        init(ordinal: Int64, id: String, stream: StreamRecord, bucketStart: Int64, bucketEnd: Int64, dek: SecureBytes, openedAt: Int64) {
            self.ordinal = ordinal
            self.id = id
            self.stream = stream
            self.bucketStart = bucketStart
            self.bucketEnd = bucketEnd
            self.dek = dek
            self.openedAt = openedAt
        }
    }

    public typealias OpenSegmentInfo = AdminAPI.OpenSegment
    public typealias Counters = AdminAPI.IngestCounters

    let store: VaultStore
    let userBoxKey: [UInt8]
    let settings: Settings
    let logger: Logger

    /// Live grants whose range may reach new segments (ongoing grants).
    /// A live grant, as new segments need it: what it covers, until when, and where its keys go.
    struct LiveGrant {
        let org: String
        let id: String
        let scope: GrantScope
        let expires: Int64
        let deliveryKey: [UInt8]
    }

    var streams: [String: StreamRecord] = [:]
    /// Live raw grants: the only ones a new segment's key is sealed to.
    var grants: [LiveGrant] = []
    /// Live `per-segment` compute grants: a closing segment they cover goes to `compute`.
    var computeGrants: [LiveGrant] = []
    var compute: ComputeService?
    /// Segments closed in the commit under way, with their keys, for `compute`.
    var closedForCompute: [ComputeService.ClosedSegment] = []
    /// Bumped by each `reloadGrants`: a reload that a later one overtook keeps its older list to itself.
    var grantsGeneration = 0
    var open: [Key: OpenSegment] = [:]
    var nextOrdinal: Int64
    var pending = VaultStore.IngestCommit()
    var round = CommitRound()
    var roundHasWaiters = false
    var committing = false
    var closeAll = false
    /// Open segments to close at the next commit (before a range deletion).
    var closeRequested = Set<Key>()
    var shuttingDown = false
    public private(set) var counters = Counters()

    /// Loads the vault, closes segments a previous process left open, loads streams.
    public init(store: VaultStore, settings: Settings, logger: Logger) async throws {
        self.store = store
        self.settings = settings
        self.logger = logger
        let vault = try await store.vault()
        self.userBoxKey = [UInt8](vault.userBoxKey)
        let abandoned = try await store.closeAbandonedSegments(now: Timestamp.now())
        if abandoned > 0 {
            logger.info("closed segments left open by a previous run; their keys are gone", metadata: ["segments": "\(abandoned)"])
        }
        self.nextOrdinal = try await store.nextSegmentOrdinal()
        for s in try await store.streams() { streams[s.name] = s }
        (self.grants, self.computeGrants) = try await Self.loadGrants(store)
    }

    // MARK: Streams

    public func addStream(name: String, kind: String = "", unit: String = "", bucketSeconds: Int64? = nil) async throws -> StreamRecord {
        if let problem = StreamName.problem(with: name) { throw VaultError(.invalidStream, problem) }
        let bucket = bucketSeconds ?? settings.defaultBucketSeconds
        guard bucket >= 1, bucket <= 366 * 86_400 else {
            throw VaultError(.invalidStream, "bucket must be between 1 second and 366 days, got \(bucket) s")
        }
        guard kind.utf8.count <= 64, unit.utf8.count <= 64 else { throw VaultError(.invalidStream, "kind and unit are at most 64 bytes") }
        let s = try await store.createStream(StreamRecord(id: nil, name: name, kind: kind, unit: unit, bucketSeconds: bucket, createdAt: Timestamp.now()))
        streams[name] = s
        return s
    }

    /// Those of `names` an ingest would refuse: unknown streams while automatic creation is off.
    public func refusedStreams(_ names: Set<String>) -> Set<String> {
        settings.autoCreateStreams ? [] : names.filter { streams[$0] == nil }
    }

    // MARK: Ingest

    /// Stores a batch atomically: either every reading is committed before this returns, or
    /// it throws and none is.
    @discardableResult
    public func ingest(_ batch: ReadingBatch) async throws -> Int {
        guard !batch.isEmpty else { return 0 }
        guard !shuttingDown else { throw VaultError(.storageUnavailable, "vaultd is shutting down") }
        var resolved: [StreamRecord] = []
        resolved.reserveCapacity(batch.streams.count)
        for name in batch.streams {
            if let s = streams[name] {
                resolved.append(s)
                continue
            }
            guard settings.autoCreateStreams else {
                throw batch.unknownStream { streams[$0] != nil } ?? VaultError(.unknownStream, "unknown stream \"\(name)\"")
            }
            resolved.append(try await createIfMissing(name))
        }
        guard !shuttingDown else { throw VaultError(.storageUnavailable, "vaultd is shutting down") }
        // From here to the wait nothing suspends: the whole batch lands in one commit round.
        let now = Timestamp.now()
        batch.values.withUnsafeBytes { values in
            for e in batch.entries {
                append(e, stream: resolved[Int(e.stream)], values: values, now: now)
            }
        }
        let myRound = round
        roundHasWaiters = true
        startCommitLoop()
        try await myRound.wait()
        counters.readingsIngested += Int64(batch.count)
        return batch.count
    }

    private func createIfMissing(_ name: String) async throws -> StreamRecord {
        if let s = streams[name] { return s }
        do {
            return try await addStream(name: name)
        } catch let e as VaultError where e.code == .streamExists {
            if let s = try await store.streams().first(where: { $0.name == name }) {
                streams[name] = s
                return s
            }
            throw e
        }
    }

    private func append(_ e: ReadingBatch.Entry, stream: StreamRecord, values: UnsafeRawBufferPointer, now: Int64) {
        let bucketMs = stream.bucketSeconds * 1000
        let bucketStart = e.t - e.t % bucketMs
        let key = Key(stream: stream.id!, bucketStart: bucketStart)
        let seg = open[key] ?? openSegment(key: key, stream: stream, bucketMs: bucketMs, now: now)
        let value = UnsafeRawBufferPointer(rebasing: values[Int(e.valueStart)..<Int(e.valueStart + e.valueLength)])
        if seg.buffer.count + ChunkFormat.lineLength(t: e.t, valueBytes: value.count) > ChunkFormat.maxPlaintextBytes {
            sealChunk(seg)
        }
        if seg.buffer.capacity == 0 { seg.buffer.reserveCapacity(ChunkFormat.maxPlaintextBytes) }
        ChunkFormat.appendLine(t: e.t, value: value, to: &seg.buffer)
        seg.bufferReadings += 1
        seg.bufferMin = min(seg.bufferMin, e.t)
        seg.bufferMax = max(seg.bufferMax, e.t)
    }

    private func openSegment(key: Key, stream: StreamRecord, bucketMs: Int64, now: Int64) -> OpenSegment {
        let dek = SecureBytes.random(count: AEAD.keyBytes)
        let id = Encoding.base32(Sodium.randomBytes(16), lowercase: true)
        // Sealed to the person bound to its segment, stream and bucket (docs/PROTOCOL.md
        // §"Segment keys sealed to the person"). The person's box key was validated at init and
        // stream names are at most 256 bytes: sealing cannot fail.
        let sealed = try! SegmentKeySeal.seal(dek, bound: .init(segment: id, stream: stream.name, start: key.bucketStart,
                                                                 end: key.bucketStart + bucketMs), to: userBoxKey)
        let seg = OpenSegment(ordinal: nextOrdinal, id: id, stream: stream, bucketStart: key.bucketStart,
                              bucketEnd: key.bucketStart + bucketMs, dek: dek, openedAt: now)
        nextOrdinal += 1
        pending.newSegments.append(SegmentRecord(
            ordinal: seg.ordinal, id: id, streamId: key.stream, bucketStart: seg.bucketStart, bucketEnd: seg.bucketEnd,
            sealedKey: Data(sealed), openedAt: now, closedAt: nil, readingCount: 0, chunkCount: 0, minTime: nil, maxTime: nil))
        open[key] = seg
        counters.segmentsOpened += 1
        // Ongoing grants: a new segment in a live grant's scope is sealed to its delivery key now.
        for g in grants where g.expires > now && g.scope.covers(stream: stream.name, bucketStart: seg.bucketStart, bucketEnd: seg.bucketEnd) {
            if let sealed = try? SealedBox.seal(dek, to: g.deliveryKey) {
                pending.grantKeys.append(.init(org: g.org, grantId: g.id, segment: seg.ordinal, sealedKey: sealed))
            }
        }
        return seg
    }

    private func sealChunk(_ seg: OpenSegment) {
        guard !seg.buffer.isEmpty else { return }
        let seq = seg.nextSeq
        seg.nextSeq += 1  // taken before the commit: a seq is never reused, even if the commit fails
        let ciphertext = ChunkFormat.seal(seg.buffer, dek: seg.dek, segmentId: seg.id, seq: seq)
        pending.chunks.append(ChunkRecord(segment: seg.ordinal, seq: seq, readingCount: seg.bufferReadings, ciphertext: Data(ciphertext)))
        var d = pending.stats[seg.ordinal] ?? VaultStore.SegmentStatsDelta()
        d.readings += seg.bufferReadings
        d.chunks += 1
        d.minTime = min(d.minTime, seg.bufferMin)
        d.maxTime = max(d.maxTime, seg.bufferMax)
        pending.stats[seg.ordinal] = d
        seg.readings += seg.bufferReadings
        seg.buffer.removeAll(keepingCapacity: true)
        seg.bufferReadings = 0
        seg.bufferMin = .max
        seg.bufferMax = .min
    }

    // MARK: Group commit

    private func startCommitLoop() {
        guard !committing else { return }
        committing = true
        Task { await self.commitLoop() }
    }

    private func commitLoop() async {
        repeat {
            let current = round
            round = CommitRound()
            roundHasWaiters = false
            let now = Timestamp.now()
            let work = takePending(now: now)
            do {
                try await store.commit(work)
                let inserted = Set(work.newSegments.compactMap(\.ordinal))
                for seg in open.values where inserted.contains(seg.ordinal) { seg.persisted = true }
                counters.chunksWritten += Int64(work.chunks.count)
                if let compute, !closedForCompute.isEmpty {
                    let closed = closedForCompute
                    closedForCompute = []
                    for c in closed { await compute.enqueue(c) }
                }
                current.complete(.success(()))
            } catch {
                counters.commitsFailed += 1
                logger.error("commit failed; open segments discarded, callers told", metadata: ["error": "\(error)"])
                // Readings appended while this commit ran share the fate of the segments they
                // went into: fail their callers too, and start over with fresh segments.
                let next = round
                round = CommitRound()
                roundHasWaiters = false
                discardOpenSegments()
                closedForCompute = []
                current.complete(.failure(error))
                next.complete(.failure(error))
                break
            }
        } while roundHasWaiters
        committing = false
    }

    /// Seals every buffer (flush before acknowledging) and picks the segments to close.
    private func takePending(now: Int64) -> VaultStore.IngestCommit {
        for seg in open.values where !seg.buffer.isEmpty { sealChunk(seg) }
        for (key, seg) in open where closeAll || closeRequested.contains(key) || seg.bucketEnd + settings.graceMilliseconds <= now {
            pending.closes.append(seg.ordinal)
            let covering = computeGrants.filter {
                $0.expires > now && $0.scope.covers(stream: seg.stream.name, bucketStart: seg.bucketStart, bucketEnd: seg.bucketEnd)
            }
            if compute != nil, !covering.isEmpty, seg.readings > 0 {
                // The key goes to the compute service, which wipes it once it has read the
                // segment's chunks (docs/PROTOCOL.md §"Compute jobs": per-segment runs).
                closedForCompute.append(.init(id: seg.id, ordinal: seg.ordinal, stream: seg.stream.name, bucketStart: seg.bucketStart,
                                              bucketEnd: seg.bucketEnd, dek: seg.dek, grants: covering.map { ($0.org, $0.id) }))
            }
            open[key] = nil  // the DEK is wiped when the last reference goes
        }
        closeRequested.removeAll()
        var work = pending
        work.closedAt = now
        pending = VaultStore.IngestCommit()
        return work
    }

    private func discardOpenSegments() {
        var closes = pending.closes
        for seg in open.values where seg.persisted { closes.append(seg.ordinal) }
        open.removeAll()
        pending = VaultStore.IngestCommit()
        pending.closes = closes
    }

    /// Closes segments whose bucket and grace period are over (`SegmentSweepService` calls it every
    /// 5 s).
    public func sweep() async {
        let now = Timestamp.now()
        guard !pending.closes.isEmpty || open.values.contains(where: { $0.bucketEnd + settings.graceMilliseconds <= now }) else { return }
        let r = round
        roundHasWaiters = true
        startCommitLoop()
        try? await r.wait()
    }

    /// Commits what is buffered, closes every segment and wipes every key; refuses new
    /// readings from then on.
    public func shutdown() async {
        shuttingDown = true
        closeAll = true
        let r = round
        roundHasWaiters = true
        startCommitLoop()
        do {
            try await r.wait()
        } catch {
            logger.error("final commit at shutdown failed", metadata: ["error": "\(error)"])
        }
        open.removeAll()
    }

    /// Closes the open segments of `stream` whose buckets overlap `[from, to)` now, committing
    /// what they buffer, and returns how many it closed. A later reading for such a bucket opens
    /// a new segment, as after a restart. (A range deletion needs every segment it touches
    /// closed: the person rewrites them under new keys.)
    public func closeSegments(stream name: String, from: Int64, to: Int64) async throws -> Int {
        guard let id = streams[name]?.id else { throw VaultError(.notFound, "no stream \"\(name)\"") }
        let keys = open.filter { $0.key.stream == id && $0.value.bucketEnd > from && $0.value.bucketStart < to }.map(\.key)
        guard !keys.isEmpty else { return 0 }
        closeRequested.formUnion(keys)
        let r = round
        roundHasWaiters = true
        startCommitLoop()
        try await r.wait()
        return keys.count
    }

    /// Applies the person's range deletion, giving each replacement segment an ordinal of the
    /// sequence this manager allocates from (docs/PROTOCOL.md §"Deleting a range").
    public func applyRangeDeletion(_ d: RangeDeletion.Checked, jws: [UInt8], replacements: [VaultStore.ReplacementSegment], now: Int64) async throws -> VaultStore.RangeDeletionResult {
        var numbered = replacements
        for i in numbered.indices {
            numbered[i].ordinal = nextOrdinal
            nextOrdinal += 1
        }
        return try await store.applyRangeDeletion(d, jws: jws, replacements: numbered, now: now)
    }

    /// Seals an open segment's DEK to another public key (a grant's delivery key); nil when the
    /// segment is not open here (its key is gone).
    public func sealOpenSegment(id: String, to publicKey: [UInt8]) throws -> [UInt8]? {
        guard let seg = open.values.first(where: { $0.id == id }) else { return nil }
        return try SealedBox.seal(seg.dek, to: publicKey)
    }

    public func openSegments() -> [OpenSegmentInfo] {
        open.values.map {
            OpenSegmentInfo(id: $0.id, stream: $0.stream.name, bucketStart: $0.bucketStart, bucketEnd: $0.bucketEnd,
                            readings: $0.readings + $0.bufferReadings)
        }.sorted { ($0.stream, $0.bucketStart) < ($1.stream, $1.bucketStart) }
    }
}

#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
