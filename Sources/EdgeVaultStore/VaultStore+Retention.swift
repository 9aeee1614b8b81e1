import EdgeVaultCore
import GRDB
import Foundation

/// Retention: a stream may keep its data only so long; whole expired segments are deleted and
/// a `data.deleted` leaf records the fact (which segments, how many readings, up to when) —
/// the ledger keeps that the data existed and went, not the data.
extension VaultStore {
    /// What one retention pass deleted from one stream, in one transaction with its leaf.
    public struct Deletion: Sendable, Equatable {
        public var stream: String
        public var segments: [String]
        public var readings: Int64
        public var chunks: Int64
        /// Buckets ending at or before this time (ms) were expired.
        public var before: Int64
        public var leafIndex: Int64
    }

    /// Most segments one retention transaction (and its one leaf) deletes.
    public static let retentionBatch = 500

    /// Refuses a retention outside 1 second … 100 years.
    public static func checkRetention(_ seconds: Int64?) throws {
        if let seconds, seconds < 1 || seconds > 100 * 366 * 86_400 {
            throw VaultError(.invalidStream, "retention must be between 1 second and 100 years, got \(seconds) s")
        }
    }

    /// Sets or clears (nil) a stream's retention.
    /// Applies the person's signed retention change with its `stream.retention` leaf, in one
    /// transaction: the vault's own, `at` at most 5 minutes behind and 1 minute ahead of `now`
    /// and newer than the stream's last change (no replay), the stream existing.
    public func applyRetentionChange(_ change: RetentionChange.Checked, jws: [UInt8], now: Int64) async throws -> (StreamRecord, Int64) {
        try Self.checkRetention(change.retentionSeconds)
        return try await write("apply the retention change") { db in
            guard change.vault == (try Self.origin(db)) else {
                throw VaultError(.decisionInvalid, "the retention change is signed for another vault (\(change.vault))")
            }
            guard TrustChange.isFresh(at: change.at, now: now) else {
                throw VaultError(.decisionInvalid, "the retention change was signed at \(Timestamp.rfc3339(milliseconds: change.at)), too far from the vault's clock; sign a new one")
            }
            if let last = try Int64.fetchOne(db, sql: "SELECT max(at) FROM retention_change WHERE stream = ?", arguments: [change.stream]), change.at <= last {
                throw VaultError(.decisionInvalid, "a newer retention change for this stream is already applied (a replay?); sign a new one")
            }
            guard var s = try StreamRecord.filter(StreamRecord.Columns.name == change.stream).fetchOne(db) else {
                throw VaultError(.notFound, "no stream \"\(change.stream)\"")
            }
            s.retentionSeconds = change.retentionSeconds
            try s.update(db)
            let index = try Self.appendLeaf(LedgerEvent.streamRetention(stream: change.stream, retentionSeconds: change.retentionSeconds,
                                                                        changeSha256: Hash.sha256(jws), signedAt: change.at).leaf(time: now), in: db)
            try db.execute(sql: "INSERT INTO retention_change (leafIndex, stream, at, jws) VALUES (?, ?, ?, ?)",
                           arguments: [index, change.stream, change.at, Data(jws)])
            return (s, index)
        }
    }

    /// Sets a retention without the person's signature: tests and migrations only.
    func setRetention(stream name: String, seconds: Int64?) async throws -> StreamRecord {
        try Self.checkRetention(seconds)
        return try await write("set the stream's retention") { db in
            guard var s = try StreamRecord.filter(StreamRecord.Columns.name == name).fetchOne(db) else {
                throw VaultError(.notFound, "no stream \"\(name)\"")
            }
            s.retentionSeconds = seconds
            try s.update(db)
            return s
        }
    }

    /// Deletes closed segments whose bucket ended more than the stream's retention before
    /// `now`: their chunks, their sealed keys for grants, the segments, and appends one
    /// `data.deleted` leaf per stream — all in one transaction per stream. At most `limit`
    /// segments per stream per call (a later call takes the rest).
    public func deleteExpiredSegments(now: Int64, limit: Int = retentionBatch) async throws -> [Deletion] {
        let streams = try await read("read retention settings") { db in
            try StreamRecord.filter(sql: "retentionSeconds IS NOT NULL").fetchAll(db)
        }
        var done: [Deletion] = []
        for stream in streams {
            guard let id = stream.id, let retention = stream.retentionSeconds else { continue }
            let cutoff = now - retention * 1000
            let deletion: Deletion? = try await write("delete expired segments") { db in
                let rows = try Row.fetchAll(db, sql: """
                    SELECT ordinal, id, readingCount, chunkCount FROM segment
                    WHERE streamId = ? AND closedAt IS NOT NULL AND bucketEnd <= ? ORDER BY ordinal LIMIT ?
                    """, arguments: [id, cutoff, limit])
                guard !rows.isEmpty else { return nil }
                let ordinals: [Int64] = rows.map { $0["ordinal"] }
                let ids: [String] = rows.map { $0["id"] }
                let readings = rows.reduce(Int64(0)) { $0 + ($1["readingCount"] as Int64) }
                let chunks = rows.reduce(Int64(0)) { $0 + ($1["chunkCount"] as Int64) }
                let list = ordinals.map(String.init).joined(separator: ",")
                try db.execute(sql: "DELETE FROM grant_key WHERE segment IN (\(list))")
                try db.execute(sql: "DELETE FROM chunk WHERE segment IN (\(list))")
                try db.execute(sql: "DELETE FROM segment WHERE ordinal IN (\(list))")
                let leaf = LedgerEvent.retentionDeleted(stream: stream.name, segments: ids, readings: readings, chunks: chunks,
                                                        before: cutoff, retentionSeconds: retention).leaf(time: now)
                let index = try Self.appendLeaf(leaf, in: db)
                return Deletion(stream: stream.name, segments: ids, readings: readings, chunks: chunks, before: cutoff, leafIndex: index)
            }
            if let deletion { done.append(deletion) }
        }
        return done
    }
}
