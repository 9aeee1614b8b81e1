import EdgeVaultCore
import Foundation
import GRDB

/// The person's deletion of a range of one stream (docs/PROTOCOL.md §"Deleting a range"):
/// checked against the vault's segments and applied with its `data.deleted` leaf in one
/// transaction.
extension VaultStore {
    /// A segment written by the person's CLI in place of one the range cuts through.
    public struct ReplacementSegment: Sendable {
        /// Allocated by the segment manager (it owns the ordinals).
        public var ordinal: Int64
        public var id: String
        public var replaces: String
        public var sealedKey: [UInt8]
        public var minTime: Int64
        public var maxTime: Int64
        public var chunks: [RangeDeletion.Chunk]
        public var grantKeys: [RangeDeletion.GrantKey]

        public init(ordinal: Int64, id: String, replaces: String, sealedKey: [UInt8], minTime: Int64, maxTime: Int64,
                    chunks: [RangeDeletion.Chunk], grantKeys: [RangeDeletion.GrantKey]) {
            self.ordinal = ordinal
            self.id = id
            self.replaces = replaces
            self.sealedKey = sealedKey
            self.minTime = minTime
            self.maxTime = maxTime
            self.chunks = chunks
            self.grantKeys = grantKeys
        }
    }

    public struct RangeDeletionResult: Sendable, Equatable {
        public var readings: Int64
        public var deletedSegments: Int
        public var replacedSegments: Int
        public var chunks: Int64
        public var leafIndex: Int64
    }

    /// Applies the person's checked deletion. Refuses (nothing changed) unless the document is
    /// this vault's, fresh and newer than the stream's last deletion, names exactly the
    /// stream's segments overlapping the range (all closed), deletes whole only segments inside
    /// the range, accounts for every reading of a cut segment (deleted + kept = its count), and
    /// comes with one replacement per cut segment that keeps readings — its digest the signed
    /// one, its bucket the replaced one's, a key for every live grant that had the replaced
    /// segment's key and for no other grant.
    public func applyRangeDeletion(_ d: RangeDeletion.Checked, jws: [UInt8], replacements: [ReplacementSegment], now: Int64) async throws -> RangeDeletionResult {
        @Sendable func invalid(_ why: String) -> VaultError { VaultError(.deletionInvalid, "refusing the deletion: \(why); nothing was deleted") }
        @Sendable func changed(_ why: String) -> VaultError {
            VaultError(.streamChanged, "the stream changed since you looked (\(why)); run vault-cli delete again; nothing was deleted")
        }
        return try await write("delete the range") { db in
            guard d.vault == (try Self.origin(db)) else { throw invalid("it is signed for another vault (\(d.vault))") }
            guard TrustChange.isFresh(at: d.at, now: now) else {
                throw invalid("it was signed at \(Timestamp.rfc3339(milliseconds: d.at)), too far from the vault's clock; sign a new one")
            }
            if let last = try Int64.fetchOne(db, sql: "SELECT max(at) FROM deletion_change WHERE stream = ?", arguments: [d.stream]), d.at <= last {
                throw invalid("a newer deletion of this stream is already applied (a replay?)")
            }
            guard let stream = try StreamRecord.filter(StreamRecord.Columns.name == d.stream).fetchOne(db), let streamId = stream.id else {
                throw VaultError(.notFound, "no stream \"\(d.stream)\"")
            }
            let overlapping = try SegmentRecord
                .filter(SegmentRecord.Columns.streamId == streamId)
                .filter(SegmentRecord.Columns.bucketEnd > d.from && SegmentRecord.Columns.bucketStart < d.to)
                .fetchAll(db)
            let byId = Dictionary(uniqueKeysWithValues: overlapping.map { ($0.id, $0) })
            if let stray = d.segments.first(where: { byId[$0.id] == nil }) {
                throw changed("segment \(stray.id) is not one of the stream's in that range")
            }
            if let open = overlapping.first(where: { $0.closedAt == nil }) {
                throw changed("segment \(open.id) is still open")
            }
            let named = Set(d.segments.map(\.id))
            let inside = overlapping.filter { $0.bucketStart >= d.from && $0.bucketEnd <= d.to }
            let wholeIds = inside.map(\.id).filter { !named.contains($0) }
            guard RangeDeletion.IdSet(wholeIds) == d.whole else {
                throw changed("the range holds \(wholeIds.count) segments to delete whole, not the \(d.whole.count) signed")
            }
            let wholeReadings = inside.filter { !named.contains($0.id) }.reduce(Int64(0)) { $0 + $1.readingCount }
            guard wholeReadings == d.wholeReadings else {
                throw invalid("the segments inside the range hold \(wholeReadings) readings, not the \(d.wholeReadings) signed")
            }
            let untouchedIds = overlapping.filter { !named.contains($0.id) && !($0.bucketStart >= d.from && $0.bucketEnd <= d.to) }.map(\.id)
            guard RangeDeletion.IdSet(untouchedIds) == d.untouched else {
                throw changed("the range's edge buckets hold \(untouchedIds.count) segments with nothing to delete, not the \(d.untouched.count) signed")
            }
            var bodies: [String: ReplacementSegment] = [:]
            for r in replacements {
                guard bodies.updateValue(r, forKey: r.replaces) == nil else { throw invalid("two replacements for segment \(r.replaces)") }
            }
            let live = try GrantRecord.filter(Column("status") == "live" && Column("expires") > now).fetchAll(db)
            var deletedOrdinals: [Int64] = inside.filter { !named.contains($0.id) }.map { $0.ordinal! }
            var chunksGone: Int64 = inside.filter { !named.contains($0.id) }.reduce(Int64(0)) { $0 + $1.chunkCount }
            var replaced: [(old: SegmentRecord, new: ReplacementSegment)] = []
            for s in d.segments {
                let old = byId[s.id]!
                let kept = s.replacement?.readings ?? 0
                if old.bucketStart >= d.from && old.bucketEnd <= d.to {
                    throw invalid("segment \(s.id) lies inside the range: it is deleted whole, not named as cut")
                } else if s.readings == 0 {
                    throw invalid("segment \(s.id) loses no reading: it is untouched, not named")
                } else if s.readings + kept != old.readingCount {
                    throw invalid("segment \(s.id) holds \(old.readingCount) readings, not \(s.readings) deleted + \(kept) kept")
                }
                deletedOrdinals.append(old.ordinal!)
                chunksGone += old.chunkCount
                guard let signed = s.replacement else {
                    if bodies[s.id] != nil { throw invalid("segment \(s.id) goes whole but a replacement was sent for it") }
                    continue
                }
                guard let body = bodies.removeValue(forKey: s.id), body.id == signed.id else {
                    throw invalid("the replacement of segment \(s.id) signed as \(signed.id) was not sent")
                }
                try Self.checkReplacement(body, signed: signed, of: old, stream: d.stream, liveGrants: live, db: db, invalid: invalid)
                replaced.append((old, body))
            }
            if let extra = bodies.keys.first { throw invalid("a replacement was sent for segment \(extra), which the signed deletion does not replace") }

            for batch in stride(from: 0, to: deletedOrdinals.count, by: 500).map({ deletedOrdinals[$0..<min($0 + 500, deletedOrdinals.count)] }) {
                let list = batch.map(String.init).joined(separator: ",")
                try db.execute(sql: "DELETE FROM grant_key WHERE segment IN (\(list))")
                try db.execute(sql: "DELETE FROM chunk WHERE segment IN (\(list))")
                try db.execute(sql: "DELETE FROM segment WHERE ordinal IN (\(list))")
            }
            for (old, new) in replaced {
                var record = SegmentRecord(
                    ordinal: new.ordinal, id: new.id, streamId: streamId, bucketStart: old.bucketStart, bucketEnd: old.bucketEnd,
                    sealedKey: Data(new.sealedKey), openedAt: now, closedAt: now, readingCount: new.chunks.reduce(0) { $0 + $1.readings },
                    chunkCount: Int64(new.chunks.count), minTime: new.minTime, maxTime: new.maxTime)
                try record.insert(db)
                for c in new.chunks {
                    try ChunkRecord(segment: new.ordinal, seq: c.seq, readingCount: c.readings, ciphertext: Data(c.ciphertext)).insert(db)
                }
                for k in new.grantKeys {
                    try db.execute(sql: "INSERT INTO grant_key (org, grantId, segment, sealedKey) VALUES (?, ?, ?, ?)",
                                   arguments: [k.org, k.grant, new.ordinal, Data(k.sealedKey)])
                }
            }
            let index = try Self.appendLeaf(LedgerEvent.rangeDeleted(.init(
                stream: d.stream, cut: d.segments.map(\.id), wholeCount: d.whole.count, wholeSha256: d.whole.sha256,
                replacements: replaced.map(\.new.id), readings: d.readings, chunks: chunksGone, from: d.from, to: d.to,
                deletionSha256: Hash.sha256(jws), signedAt: d.at)).leaf(time: now), in: db)
            try db.execute(sql: "INSERT INTO deletion_change (leafIndex, stream, at, jws) VALUES (?, ?, ?, ?)",
                           arguments: [index, d.stream, d.at, Data(jws)])
            return RangeDeletionResult(readings: d.readings, deletedSegments: Int(d.whole.count) + d.segments.count - replaced.count,
                                       replacedSegments: replaced.count, chunks: chunksGone, leafIndex: index)
        }
    }

    /// Most chunks one replacement may have (a bucket's worth of readings at 64 KiB a chunk).
    public static let maxReplacementChunks = 4096

    static func checkReplacement(
        _ body: ReplacementSegment, signed: RangeDeletion.Replacement, of old: SegmentRecord, stream: String,
        liveGrants: [GrantRecord], db: Database, invalid: (String) -> VaultError
    ) throws {
        guard RangeDeletion.replacementDigest(sealedKey: body.sealedKey, chunks: body.chunks, minTime: body.minTime, maxTime: body.maxTime,
                                              grantKeys: body.grantKeys) == signed.sha256 else {
            throw invalid("the replacement \(body.id) is not what was signed (sha256 differs)")
        }
        guard !body.chunks.isEmpty, body.chunks.count <= maxReplacementChunks,
              zip(body.chunks, body.chunks.dropFirst()).allSatisfy({ $0.seq < $1.seq }), body.chunks.allSatisfy({ $0.seq >= 0 && $0.readings > 0 })
        else { throw invalid("the replacement \(body.id) needs 1…\(maxReplacementChunks) chunks in increasing seq, each with readings") }
        guard body.chunks.reduce(0, { $0 + $1.readings }) == signed.readings else {
            throw invalid("the replacement \(body.id)'s chunks hold \(body.chunks.reduce(0) { $0 + $1.readings }) readings, not the signed \(signed.readings)")
        }
        guard body.sealedKey.count > SegmentKeySeal.unboundSealedLength, body.sealedKey.count <= 2048 else {
            throw invalid("the replacement \(body.id) needs a bound sealed key")
        }
        guard body.minTime >= old.bucketStart, body.maxTime < old.bucketEnd, body.minTime <= body.maxTime else {
            throw invalid("the replacement \(body.id)'s times are outside its bucket")
        }
        guard body.id.utf8.count <= 64, !body.id.isEmpty, try SegmentRecord.filter(SegmentRecord.Columns.id == body.id).fetchCount(db) == 0 else {
            throw invalid("the replacement's id \(body.id) is taken or not an id")
        }
        let had = Set(try Row.fetchAll(db, sql: "SELECT org, grantId FROM grant_key WHERE segment = ?", arguments: [old.ordinal!])
            .map { "\($0["org"] as String)\n\($0["grantId"] as String)" })
        var given = Set<String>()
        for k in body.grantKeys {
            let key = "\(k.org)\n\(k.grant)"
            guard given.insert(key).inserted else { throw invalid("two keys for grant \(k.grant) in replacement \(body.id)") }
            guard let g = liveGrants.first(where: { $0.org == k.org && $0.id == k.grant }),
                  g.scope.covers(stream: stream, bucketStart: old.bucketStart, bucketEnd: old.bucketEnd)
            else { throw invalid("replacement \(body.id) carries a key for grant \(k.grant), which is not a live grant covering it") }
            guard k.sealedKey.count > 0, k.sealedKey.count <= 512 else { throw invalid("a grant key of replacement \(body.id) is not a sealed key") }
        }
        let liveKeys = Set(liveGrants.map { "\($0.org)\n\($0.id)" })
        if let lacking = had.intersection(liveKeys).subtracting(given).first {
            throw invalid("replacement \(body.id) lacks a key for grant \(lacking.split(separator: "\n").last ?? "") that holds the replaced segment")
        }
    }
}
