import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// How one witness of this vault's log is doing (docs/PROTOCOL.md §"Witnesses").
public struct WitnessProgress: Sendable, Equatable {
    /// The witness's cosignature verifier key.
    public var key: String
    /// The size of this log the witness last cosigned, or told us it holds (a 409).
    public var cosignedSize: Int64
    public var lastSuccess: Int64?
    public var lastAttempt: Int64?
    public var lastError: String?
    /// Failed submissions since the last success.
    public var failures: Int
}

/// A witness refused this vault's checkpoint in a way only a fork or a rollback explains:
/// kept as evidence, shown by `vault-cli status`.
public struct WitnessAlarm: Sendable, Equatable {
    public var id: Int64
    public var key: String
    public var at: Int64
    /// The witness's HTTP status (0: found by this vault itself).
    public var status: Int
    public var detail: String
    /// The checkpoint (signed note) that was refused.
    public var checkpoint: String
    /// The witness's answer, at most `maxResponseBytes`.
    public var response: String

    public static let maxResponseBytes = 4096
    /// How many alarms are kept (the newest).
    public static let maxKept = 1000
}

/// The cosignatures this vault's checkpoints collected and its witnesses' progress.
extension VaultStore {
    public func witnessProgress(key: String) async throws -> WitnessProgress {
        try await read("read the witnesses' progress") { try Self.progress($0, key: key) }
    }

    public func witnessProgress() async throws -> [WitnessProgress] {
        try await read("read the witnesses' progress") { db in
            try Row.fetchAll(db, sql: "SELECT key, cosignedSize, lastSuccess, lastAttempt, lastError, failures FROM witness_target ORDER BY key")
                .map(Self.progress)
        }
    }

    static func progress(_ db: Database, key: String) throws -> WitnessProgress {
        try Row.fetchOne(db, sql: "SELECT key, cosignedSize, lastSuccess, lastAttempt, lastError, failures FROM witness_target WHERE key = ?",
                         arguments: [key]).map(progress)
            ?? WitnessProgress(key: key, cosignedSize: 0, lastSuccess: nil, lastAttempt: nil, lastError: nil, failures: 0)
    }

    static func progress(_ row: Row) -> WitnessProgress {
        WitnessProgress(key: row[0], cosignedSize: row[1], lastSuccess: row[2], lastAttempt: row[3], lastError: row[4], failures: row[5])
    }

    /// Keeps `line`, the witness `key`'s cosignature of the checkpoint of `size`, and records
    /// that the witness now holds that size.
    public func saveCosignature(size: Int64, key: String, line: String, time: Int64, now: Int64) async throws {
        try await write("save a cosignature") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO cosignature (size, key, line, time) VALUES (?, ?, ?, ?)", arguments: [size, key, line, time])
            try db.execute(sql: """
                INSERT INTO witness_target (key, cosignedSize, lastSuccess, lastAttempt, lastError, failures) VALUES (?, ?, ?, ?, NULL, 0)
                ON CONFLICT(key) DO UPDATE SET cosignedSize = excluded.cosignedSize, lastSuccess = excluded.lastSuccess,
                    lastAttempt = excluded.lastAttempt, lastError = NULL, failures = 0
                """, arguments: [key, size, now, now])
        }
    }

    /// Records the size a witness says it holds (its 409 answer): the next submission proves
    /// consistency from there.
    public func setWitnessSize(key: String, size: Int64, now: Int64) async throws {
        try await write("save a witness's size") { db in
            try db.execute(sql: """
                INSERT INTO witness_target (key, cosignedSize, lastAttempt) VALUES (?, ?, ?)
                ON CONFLICT(key) DO UPDATE SET cosignedSize = excluded.cosignedSize, lastAttempt = excluded.lastAttempt
                """, arguments: [key, size, now])
        }
    }

    /// Records a failed submission to the witness `key`.
    public func recordWitnessFailure(key: String, error: String, now: Int64) async throws {
        try await write("save a witness failure") { db in
            try db.execute(sql: """
                INSERT INTO witness_target (key, lastAttempt, lastError, failures) VALUES (?, ?, ?, 1)
                ON CONFLICT(key) DO UPDATE SET lastAttempt = excluded.lastAttempt, lastError = excluded.lastError, failures = failures + 1
                """, arguments: [key, now, String(error.prefix(500))])
        }
    }

    /// The cosignature lines of the checkpoint of `size`, by witness key.
    public func cosignatures(size: Int64) async throws -> [(key: String, line: String)] {
        try await read("read cosignatures") { db in
            try Row.fetchAll(db, sql: "SELECT key, line FROM cosignature WHERE size = ? ORDER BY key", arguments: [size]).map { ($0[0], $0[1]) }
        }
    }

    /// Among the newest 64 cosigned checkpoints covering leaf `index`, the one with the most
    /// cosignatures (the newest among equals), with its cosignature lines; nil when none has
    /// any. Only cosignatures that verified with a witness's key are ever stored. (The newest
    /// 64 only: a read of the primary key's last pages, however long the log.)
    public func bestCosignedCheckpoint(covering index: Int64) async throws -> (StoredCheckpoint, [String])? {
        try await read("read cosignatures") { db in
            let recent = try Row.fetchAll(db, sql: "SELECT size, count(*) FROM cosignature WHERE size > ? GROUP BY size ORDER BY size DESC LIMIT 64",
                                          arguments: [index])
            var best: (size: Int64, count: Int)?
            for row in recent where (row[1] as Int) > (best?.count ?? 0) { best = (row[0], row[1]) }
            guard let size = best?.size,
                  let cp = try Row.fetchOne(db, sql: "SELECT size, root, note, createdAt FROM ledger_checkpoint WHERE size = ?", arguments: [size])
            else { return nil }
            let lines = try String.fetchAll(db, sql: "SELECT line FROM cosignature WHERE size = ? ORDER BY key", arguments: [size])
            return (Self.checkpoint(cp), lines)
        }
    }

    /// Per witness key, the largest checkpoint it cosigned (by a cosignature that verified).
    public func cosignedSizes() async throws -> [String: Int64] {
        try await read("read cosignatures") { db in
            Dictionary(try Row.fetchAll(db, sql: "SELECT key, max(size) FROM cosignature GROUP BY key").map { ($0[0], $0[1]) },
                       uniquingKeysWith: { a, _ in a })
        }
    }

    /// The witnesses (keys) that cosigned each checkpoint of at least `size`, newest first.
    public func cosigners(atLeast size: Int64, limit: Int) async throws -> [(size: Int64, keys: [String])] {
        try await read("read cosignatures") { db in
            // A cursor, read only as far as `limit` checkpoints: an old leaf's size must not read
            // every cosignature since.
            let rows = try Row.fetchCursor(db, sql: "SELECT size, key FROM cosignature WHERE size >= ? ORDER BY size DESC", arguments: [size])
            var out: [(size: Int64, keys: [String])] = []
            while let row = try rows.next() {
                let s: Int64 = row[0]
                if out.last?.size == s { out[out.count - 1].keys.append(row[1]) } else {
                    if out.count == limit { break }
                    out.append((s, [row[1]]))
                }
            }
            return out
        }
    }

    public func recordWitnessAlarm(key: String, status: Int, detail: String, checkpoint: String, response: String, now: Int64) async throws {
        try await write("record a witness alarm") { db in
            try db.execute(sql: "INSERT INTO witness_alarm (key, at, status, detail, checkpoint, response) VALUES (?, ?, ?, ?, ?, ?)",
                           arguments: [key, now, status, String(detail.prefix(1000)), checkpoint,
                                       String(decoding: Array(response.utf8.prefix(WitnessAlarm.maxResponseBytes)), as: UTF8.self)])
            // The newest `maxKept` stay: a witness that keeps refusing cannot fill the card.
            try db.execute(sql: "DELETE FROM witness_alarm WHERE id <= (SELECT max(id) FROM witness_alarm) - ?", arguments: [WitnessAlarm.maxKept])
        }
    }

    /// The latest alarms, newest first.
    public func witnessAlarms(limit: Int = 50) async throws -> [WitnessAlarm] {
        try await read("read witness alarms") { db in
            try Row.fetchAll(db, sql: "SELECT id, key, at, status, detail, checkpoint, response FROM witness_alarm ORDER BY id DESC LIMIT ?",
                             arguments: [limit]).map {
                WitnessAlarm(id: $0[0], key: $0[1], at: $0[2], status: $0[3], detail: $0[4], checkpoint: $0[5], response: $0[6])
            }
        }
    }
}
