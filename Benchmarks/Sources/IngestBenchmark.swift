import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDBSQLite
import Logging

/// `ingest`: readings/s and disk bytes/reading of the full EdgeVault ingest path (NDJSON →
/// chunks → encrypt → commit, batches of 10,000 as the CLI sends them) against plaintext
/// per-row inserts of the same, already parsed readings through SQLite's C API (prepared
/// statement, WAL, synchronous=NORMAL, 10,000 rows per transaction, an index on (stream, t)
/// so that the plaintext store can answer the same range queries). Also vaultd's idle RSS
/// against a bare Hummingbird daemon on a Unix socket.
struct IngestBenchmark {
    let readings: Int
    let batchSize = 10_000
    let streams = ["home/livingroom/temperature", "home/livingroom/humidity", "home/kitchen/temperature", "phone/steps"]

    /// NDJSON batches and the same readings parsed, as (stream, t, value text).
    func makeInput() -> (batches: [[UInt8]], rows: [(String, Int64, String)]) {
        var batches: [[UInt8]] = []
        var rows: [(String, Int64, String)] = []
        rows.reserveCapacity(readings)
        let start: Int64 = 1_790_000_000_000
        var current = ""
        var rng = SystemRandomNumberGenerator()
        for i in 0..<readings {
            let stream = streams[i % streams.count]
            let t = start + Int64(i / streams.count) * 1000
            let v = String(format: "%.2f", Double.random(in: 15..<30, using: &rng))
            current += "{\"stream\":\"\(stream)\",\"t\":\(t),\"v\":\(v)}\n"
            rows.append((stream, t, v))
            if (i + 1) % batchSize == 0 || i == readings - 1 {
                batches.append(Array(current.utf8))
                current = ""
            }
        }
        return (batches, rows)
    }

    func run() async throws {
        print("\ningest: \(readings) readings over \(streams.count) streams, batches of \(batchSize)")
        let (batches, rows) = makeInput()

        // EdgeVault: parse, chunk, encrypt, group-commit (synchronous=FULL).
        let dir = try temporaryDirectory("ingest")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var pass = Array("benchmark passphrase".utf8)
        _ = try VaultSetup.initialize(dataDir: dir + "/data", keyFile: dir + "/user.key",
                                      passphrase: SecureBytes(wiping: &pass), cost: .interactive)
        let store = try VaultStore.open(dataDir: dir + "/data")
        let manager = try await SegmentManager(store: store, settings: .init(), logger: Logger(label: "bench"))
        let ours = try await measureSeconds {
            for body in batches {
                var batch = ReadingBatch()
                var errors: [LineError] = []
                try NDJSONParser.parse(body, into: &batch, errors: &errors)
                try await manager.ingest(batch)
            }
        }
        await manager.shutdown()
        _ = try await store.writer.writeWithoutTransaction { try $0.checkpoint(.truncate) }
        let ourBytes = fileSize(store.path) + fileSize(store.path + "-wal")

        // Baseline: plaintext rows through the SQLite C API.
        let basePath = dir + "/plain.db"
        var baseBytes: Int64 = 0
        let baseline = try insertPlaintext(path: basePath, rows: rows)
        baseBytes = fileSize(basePath) + fileSize(basePath + "-wal")

        let oursRate = Double(readings) / ours, baseRate = Double(readings) / baseline
        var figures = [
            Figure(name: "readings/s", ours: oursRate, baseline: baseRate, baselineName: "SQLite per-row", goal: "ratio ≥ 1.5"),
            Figure(name: "disk bytes/reading", ours: Double(ourBytes) / Double(readings), baseline: Double(baseBytes) / Double(readings),
                   baselineName: "SQLite per-row", goal: "ratio ≤ 0.5", format: "%.1f"),
        ]
        if let rss = try await IdleRSS.measure() {
            figures.append(Figure(name: "idle RSS (MB)", ours: rss.vaultd, baseline: rss.bare, baselineName: "bare Hummingbird",
                                  goal: "vaultd ≤ 20 MB", format: "%.1f"))
        }
        printTable("ingest results", figures)
    }

    func insertPlaintext(path: String, rows: [(String, Int64, String)]) throws -> Double {
        var db: OpaquePointer?
        guard sqlite3_open(path, &db) == SQLITE_OK else { throw BenchError("cannot open \(path)") }
        defer { sqlite3_close(db) }
        func exec(_ sql: String) throws {
            guard sqlite3_exec(db, sql, nil, nil, nil) == SQLITE_OK else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
        }
        try exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")
        try exec("CREATE TABLE reading (stream TEXT NOT NULL, t INTEGER NOT NULL, v TEXT NOT NULL); CREATE INDEX reading_by_stream_time ON reading(stream, t);")
        var stmt: OpaquePointer?
        guard sqlite3_prepare_v2(db, "INSERT INTO reading (stream, t, v) VALUES (?, ?, ?)", -1, &stmt, nil) == SQLITE_OK else {
            throw BenchError("prepare failed")
        }
        defer { sqlite3_finalize(stmt) }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        let seconds = try timeIt {
            for (i, row) in rows.enumerated() {
                if i % batchSize == 0 { try exec("BEGIN") }
                sqlite3_bind_text(stmt, 1, row.0, -1, transient)
                sqlite3_bind_int64(stmt, 2, row.1)
                sqlite3_bind_text(stmt, 3, row.2, -1, transient)
                guard sqlite3_step(stmt) == SQLITE_DONE else { throw BenchError(String(cString: sqlite3_errmsg(db))) }
                sqlite3_reset(stmt)
                if (i + 1) % batchSize == 0 || i == rows.count - 1 { try exec("COMMIT") }
            }
        }
        try exec("PRAGMA wal_checkpoint(TRUNCATE)")
        return seconds
    }

    func timeIt(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        let d = ContinuousClock.now - start
        return Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
