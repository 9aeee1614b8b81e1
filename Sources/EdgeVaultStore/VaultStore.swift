import EdgeVaultCore
import Dispatch
import GRDB
#if canImport(Glibc)
import Glibc
#endif
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// The vault's embedded database: one SQLite file in the data directory, WAL mode,
/// `synchronous=FULL` so that an acknowledged commit survives power loss.
///
/// Its public API is async: request handlers and the daemon's services call it without
/// blocking a thread of Swift's cooperative pool (see `read`). The few blocking calls the
/// command-line tools make (init, restore) are named `…Blocking`; the daemon never calls those
/// (`StoreCallTests` scans Sources/EdgeVaultServer for them).
public final class VaultStore: Sendable {
    public static let databaseFileName = "vault.db"

    /// A `DatabasePool` on the vault's file; a `DatabaseQueue` for an in-memory store (tests).
    public let writer: any DatabaseWriter
    public let path: String
    /// Organizations' keys as the signature check needs them (see `orgKey(keyId:)`).
    let orgKeys = OrgKeyCache()
    /// A read-only connection of its own for `hotRead` (nil in memory: the writer answers).
    let hotReader: HotReader?

    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    public init(path: String) throws {
        var config = GRDB.Configuration()
        config.busyMode = .timeout(5)
        config.label = "edgevault"
        config.maximumReaderCount = 4
        config.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON;")
        }
        self.path = path
        do {
            writer = try DatabasePool(path: path, configuration: config)
            // Owner only, whatever the umask was when a file was created (SQLite gives the WAL
            // and shared-memory files it creates later the database file's mode).
            Self.restrictPermissions(path)
            try Migrations.migrator.migrate(writer)
            hotReader = try HotReader(path: path)
        } catch let e as DatabaseError {
            let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
            if Self.isReadOnlyFileSystem(directory.isEmpty ? "." : directory) {
                throw VaultError(.storageUnavailable, "cannot open the vault database \(path): its file system is mounted read-only")
            }
            switch e.resultCode {
            case .SQLITE_FULL, .SQLITE_BUSY, .SQLITE_LOCKED:
                throw Self.storageError(e, "open the vault database \(path)")
            default:
                throw VaultError(.storageUnavailable, "cannot open the vault database \(path): \(e.message ?? "\(e.resultCode)")")
            }
        }
    }

    /// A migrated database that lives in memory only, gone with the store (tests).
    public static func inMemory() throws -> VaultStore {
        var config = GRDB.Configuration()
        config.label = "edgevault"
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA foreign_keys = ON;") }
        return try VaultStore(writer: DatabaseQueue(configuration: config))
    }

    private init(writer: DatabaseQueue) throws {
        self.writer = writer
        self.path = ":memory:"
        self.hotReader = nil
        try Migrations.migrator.migrate(writer)
    }

    /// Makes the database file and its WAL and shared-memory files 0600.
    static func restrictPermissions(_ path: String) {
        for suffix in ["", "-wal", "-shm"] { _ = chmod(path + suffix, 0o600) }
    }

    /// Opens the database of an initialised data directory (at start-up, before anything is
    /// served).
    public static func open(dataDir: String) throws -> VaultStore {
        let path = dataDir + "/" + databaseFileName
        guard FileIO.exists(path) else {
            throw VaultError(.vaultMissing, "no vault in \(dataDir) (run `vault-cli init --data-dir \(dataDir)` first)")
        }
        let store = try VaultStore(path: path)
        _ = try store.vaultBlocking()
        return store
    }

    /// Whether `directory` sits on a file system mounted read-only.
    static func isReadOnlyFileSystem(_ directory: String) -> Bool {
        var info = statvfs()
        return statvfs(directory, &info) == 0 && info.f_flag & UInt(ST_RDONLY) != 0
    }

    /// Maps SQLite failures to a storage error with a clear message; other errors pass through.
    static func storageError(_ error: any Error, _ doing: String) -> any Error {
        guard let e = error as? DatabaseError else { return error }
        switch e.resultCode {
        case .SQLITE_FULL: return VaultError(.storageUnavailable, "cannot \(doing): the disk is full")
        case .SQLITE_READONLY: return VaultError(.storageUnavailable, "cannot \(doing): the database is read-only")
        case .SQLITE_BUSY, .SQLITE_LOCKED: return VaultError(.storageUnavailable, "cannot \(doing): the database is locked by another process")
        case .SQLITE_IOERR, .SQLITE_CANTOPEN: return VaultError(.storageUnavailable, "cannot \(doing): I/O error on the data directory")
        case .SQLITE_CONSTRAINT: return VaultError(.badRequest, "cannot \(doing): \(e.message ?? "constraint violated")")
        default: return VaultError(.storageUnavailable, "cannot \(doing): \(e.message ?? "\(e.resultCode)")")
        }
    }

    /// A read on the calling thread: what `read` runs off the pool, and what the `…Blocking`
    /// calls of the command-line tools run directly.
    func readBlocking<T: Sendable>(_ doing: String, _ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try writer.read(body) } catch { throw Self.storageError(error, doing) }
    }

    /// Where async reads and writes run: GRDB's blocking calls on threads of their own, never
    /// holding a database connection across a suspension.
    ///
    /// GRDB's own async `read` keeps its reader until its continuation runs on the cooperative
    /// pool, while a synchronous read made on that pool waits for a free reader — with two
    /// cores, two synchronous readers waiting on four readers held by async calls stopped the
    /// whole daemon (found by the 200-connection load run). Here every connection is released
    /// on the thread that used it, so a waiting reader always gets one, and no store call
    /// blocks a cooperative thread (the daemon makes none of the `…Blocking` ones).
    private static let blockingQueue = DispatchQueue(label: "edgevault.store", attributes: .concurrent)

    /// Runs blocking work (a database access, a file copy) on `blockingQueue`.
    func offPool<T: Sendable>(_ work: @Sendable @escaping () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Self.blockingQueue.async { continuation.resume(with: Result { try work() }) }
        }
    }

    /// A read that suspends instead of blocking a cooperative thread (request handlers).
    func read<T: Sendable>(_ doing: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await offPool { try self.readBlocking(doing, body) }
    }

    /// One of the per-call lookups of signed calls (see `HotReader`): one prepared single-row
    /// statement on a connection of its own, run in line — it never waits for a connection of
    /// the pool, so it cannot take part in the stall described at `blockingQueue`.
    func hotRead<T>(_ doing: String, _ query: HotReader.Query, _ arguments: [String], read: (borrowing HotReader.Columns) -> T) throws -> T? {
        do {
            if let hotReader { return try hotReader.first(query, arguments, read: read) }
            return try writer.read { db in try HotReader.first(query, arguments, on: db.sqliteConnection, read: read) }
        } catch {
            throw Self.storageError(error, doing)
        }
    }

    /// A write on the calling thread: what `write` runs off the pool, and what the `…Blocking`
    /// calls of the command-line tools run directly.
    func writeBlocking<T: Sendable>(_ doing: String, _ body: @Sendable (Database) throws -> T) throws -> T {
        do { return try writer.write(body) } catch { throw Self.storageError(error, doing) }
    }

    func write<T: Sendable>(_ doing: String, _ body: @Sendable @escaping (Database) throws -> T) async throws -> T {
        try await offPool { try self.writeBlocking(doing, body) }
    }

    // MARK: Vault identity

    /// The vault's identity. It never changes: the daemon reads it once at start-up.
    public func vault() async throws -> VaultRecord {
        try await offPool { try self.vaultBlocking() }
    }

    public func vaultBlocking() throws -> VaultRecord {
        guard let v = try readBlocking("read the vault record", { try VaultRecord.fetchOne($0) }) else {
            throw VaultError(.vaultMissing, "the database at \(path) holds no vault (was `vault-cli init` interrupted?)")
        }
        return v
    }

    /// Records the vault's identity and its genesis leaf, in one transaction (`vault-cli init`).
    public func initializeVaultBlocking(_ record: VaultRecord, genesis: LedgerLeaf) throws {
        try writeBlocking("initialise the vault") { db in
            guard try VaultRecord.fetchCount(db) == 0 else { throw VaultError(.vaultExists, "this database already holds a vault") }
            try record.insert(db)
            try Self.appendLeaf(genesis, in: db)
        }
    }

    // MARK: Streams

    public func streams() async throws -> [StreamRecord] {
        try await read("list streams") { try StreamRecord.order(StreamRecord.Columns.name).fetchAll($0) }
    }

    public func createStream(_ stream: StreamRecord) async throws -> StreamRecord {
        try await write("add a stream") { db in
            if try StreamRecord.filter(StreamRecord.Columns.name == stream.name).fetchOne(db) != nil {
                throw VaultError(.streamExists, "stream \"\(stream.name)\" already exists")
            }
            var s = stream
            try s.insert(db)
            return s
        }
    }

    // MARK: Segments and chunks

    public struct SegmentStatsDelta: Sendable {
        public var readings: Int64 = 0
        public var chunks: Int64 = 0
        public var minTime: Int64 = .max
        public var maxTime: Int64 = .min

        package init(readings: Int64 = 0, chunks: Int64 = 0, minTime: Int64 = .max, maxTime: Int64 = .min) {
            self.readings = readings
            self.chunks = chunks
            self.minTime = minTime
            self.maxTime = maxTime
        }
    }

    /// Everything one group commit writes, in one transaction.
    public struct IngestCommit: Sendable {
        public var newSegments: [SegmentRecord] = []
        public var chunks: [ChunkRecord] = []
        public var stats: [Int64: SegmentStatsDelta] = [:]
        public var closes: [Int64] = []
        public var closedAt: Int64 = 0
        /// New segments' DEKs sealed to ongoing grants.
        public var grantKeys: [GrantKey] = []

        public struct GrantKey: Sendable {
            public var org: String
            public var grantId: String
            public var segment: Int64
            public var sealedKey: [UInt8]

            package init(org: String, grantId: String, segment: Int64, sealedKey: [UInt8]) {
                self.org = org
                self.grantId = grantId
                self.segment = segment
                self.sealedKey = sealedKey
            }
        }

        public var isEmpty: Bool { newSegments.isEmpty && chunks.isEmpty && closes.isEmpty }

        package init(newSegments: [SegmentRecord] = [], chunks: [ChunkRecord] = [], stats: [Int64: SegmentStatsDelta] = [:], closes: [Int64] = [], closedAt: Int64 = 0, grantKeys: [GrantKey] = []) {
            self.newSegments = newSegments
            self.chunks = chunks
            self.stats = stats
            self.closes = closes
            self.closedAt = closedAt
            self.grantKeys = grantKeys
        }
    }

    public func commit(_ work: IngestCommit) async throws {
        if work.isEmpty { return }
        try await write("store readings") { db in
            for var s in work.newSegments { try s.insert(db) }
            let grantKey = try db.cachedStatement(sql: "INSERT OR IGNORE INTO grant_key (org, grantId, segment, sealedKey) VALUES (?, ?, ?, ?)")
            for k in work.grantKeys { try grantKey.execute(arguments: [k.org, k.grantId, k.segment, Data(k.sealedKey)]) }
            for c in work.chunks { try c.insert(db) }
            let update = try db.makeStatement(sql: """
                UPDATE segment SET readingCount = readingCount + ?, chunkCount = chunkCount + ?,
                  minTime = min(coalesce(minTime, ?), ?), maxTime = max(coalesce(maxTime, ?), ?)
                WHERE ordinal = ?
                """)
            for (ordinal, d) in work.stats {
                try update.execute(arguments: [d.readings, d.chunks, d.minTime, d.minTime, d.maxTime, d.maxTime, ordinal])
            }
            let close = try db.makeStatement(sql: "UPDATE segment SET closedAt = ? WHERE ordinal = ? AND closedAt IS NULL")
            for ordinal in work.closes { try close.execute(arguments: [work.closedAt, ordinal]) }
        }
    }

    /// Marks segments a previous process left open as closed: their DEKs died with it.
    public func closeAbandonedSegments(now: Int64) async throws -> Int {
        try await write("close abandoned segments") { db in
            try db.execute(sql: "UPDATE segment SET closedAt = ? WHERE closedAt IS NULL", arguments: [now])
            return db.changesCount
        }
    }

    public func nextSegmentOrdinal() async throws -> Int64 {
        try await read("read segments") { db in (try Int64.fetchOne(db, sql: "SELECT max(ordinal) FROM segment") ?? 0) + 1 }
    }

    /// Segments of the given streams whose buckets overlap `[from, to)`, in stream, bucket and
    /// opening order; with `unboundOnly` only those whose key is still of the earlier unbound
    /// format (filtered in SQL: every unlock asks).
    public func segments(streamIds: [Int64], from: Int64, to: Int64, unboundOnly: Bool = false) async throws -> [SegmentRecord] {
        try await read("list segments") { db in
            var request = SegmentRecord.filter(streamIds.contains(SegmentRecord.Columns.streamId))
            if unboundOnly { request = request.filter(sql: "length(sealedKey) = ?", arguments: [SegmentKeySeal.unboundSealedLength]) }
            return try request
                .filter(SegmentRecord.Columns.bucketEnd > from && SegmentRecord.Columns.bucketStart < to)
                .order(SegmentRecord.Columns.streamId, SegmentRecord.Columns.bucketStart, SegmentRecord.Columns.ordinal)
                .fetchAll(db)
        }
    }

    public func segment(id: String) async throws -> SegmentRecord? {
        try await read("read a segment") { try SegmentRecord.filter(SegmentRecord.Columns.id == id).fetchOne($0) }
    }

    /// Chunks of a segment with `seq > after`, in order, at most `limit`.
    public func chunks(segment ordinal: Int64, after: Int64, limit: Int) async throws -> [ChunkRecord] {
        try await read("read chunks") { db in
            try ChunkRecord
                .filter(ChunkRecord.Columns.segment == ordinal && ChunkRecord.Columns.seq > after)
                .order(ChunkRecord.Columns.seq)
                .limit(limit)
                .fetchAll(db)
        }
    }

    public typealias StreamStats = AdminAPI.StreamStats

    public func streamStats() async throws -> [StreamStats] {
        try await read("read stream statistics") { db in
            let rows = try Row.fetchAll(db, sql: """
                SELECT s.name, s.kind, s.unit, s.bucketSeconds, count(g.ordinal) AS segments,
                       coalesce(sum(g.readingCount), 0) AS readings, min(g.minTime) AS first, max(g.maxTime) AS last
                FROM stream s LEFT JOIN segment g ON g.streamId = s.id
                GROUP BY s.id ORDER BY s.name
                """)
            return rows.map {
                StreamStats(name: $0["name"], kind: $0["kind"], unit: $0["unit"], bucketSeconds: $0["bucketSeconds"],
                            segments: $0["segments"], readings: $0["readings"], first: $0["first"], last: $0["last"])
            }
        }
    }
}
