import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// What a witness remembers of one log it cosigns (docs/PROTOCOL.md §"Witnesses"): the log's
/// key, and the size and root of the last checkpoint it cosigned, which only ever grow.
public struct WitnessedLog: Sendable, Equatable {
    public var origin: String
    /// The log's signed-note verifier key (`<origin>+<hash>+<base64(0x01 ‖ key)>`).
    public var logKey: String
    /// Whether the witness answers for this log now (a removed peer's state is kept, so adding
    /// it again cannot roll its log back).
    public var active: Bool
    public var size: Int64?
    public var root: [UInt8]?
    /// The last checkpoint cosigned, as the log sent it: evidence should the log fork.
    public var checkpoint: String?
    public var updatedAt: Int64?

    public init(origin: String, logKey: String, active: Bool = true, size: Int64? = nil, root: [UInt8]? = nil,
                checkpoint: String? = nil, updatedAt: Int64? = nil) {
        self.origin = origin
        self.logKey = logKey
        self.active = active
        self.size = size
        self.root = root
        self.checkpoint = checkpoint
        self.updatedAt = updatedAt
    }
}

/// Where a witness keeps its state: the vault's database (`VaultStore`) or an organization's
/// witness database (`WitnessDatabase`), through the same code (`WitnessTables`).
public protocol WitnessStateStore: Sendable {
    /// The log `origin`, if the witness knows it (active or not).
    func witnessedLog(origin: String) async throws -> WitnessedLog?
    /// Runs `decide` on the stored state of `origin` and stores the state it returns, in one
    /// write transaction: two submissions for the same log cannot both advance from the same
    /// size (the check-and-set the C2SP tlog-witness spec asks for).
    func updateWitnessedLog<T: Sendable>(origin: String, _ decide: @Sendable @escaping (WitnessedLog?) throws -> (T, WitnessedLog?)) async throws -> T
    /// Every log the witness knows, by origin.
    func witnessedLogs() async throws -> [WitnessedLog]
}

/// The witness tables and their queries, shared by both stores.
public enum WitnessTables {
    /// Part of the vault's migration `v12-witnesses` and of the witness database's first
    /// migration; a change is a new migration in both.
    static let sql = """
        CREATE TABLE witnessed_log (
            origin TEXT PRIMARY KEY,
            logKey TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            size INTEGER,
            root BLOB,
            checkpoint TEXT,
            updatedAt INTEGER
        );
        """

    static func fetch(_ db: Database, origin: String) throws -> WitnessedLog? {
        try Row.fetchOne(db, sql: "SELECT origin, logKey, active, size, root, checkpoint, updatedAt FROM witnessed_log WHERE origin = ?",
                         arguments: [origin]).map(log)
    }

    static func fetchAll(_ db: Database) throws -> [WitnessedLog] {
        try Row.fetchAll(db, sql: "SELECT origin, logKey, active, size, root, checkpoint, updatedAt FROM witnessed_log ORDER BY origin").map(log)
    }

    static func log(_ row: Row) -> WitnessedLog {
        WitnessedLog(origin: row[0], logKey: row[1], active: row[2], size: row[3], root: (row[4] as Data?).map { [UInt8]($0) },
                     checkpoint: row[5], updatedAt: row[6])
    }

    static func save(_ log: WitnessedLog, in db: Database) throws {
        try db.execute(sql: """
            INSERT INTO witnessed_log (origin, logKey, active, size, root, checkpoint, updatedAt) VALUES (?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT(origin) DO UPDATE SET logKey = excluded.logKey, active = excluded.active, size = excluded.size,
                root = excluded.root, checkpoint = excluded.checkpoint, updatedAt = excluded.updatedAt
            """, arguments: [log.origin, log.logKey, log.active, log.size, log.root.map { Data($0) }, log.checkpoint, log.updatedAt])
    }

    static func update<T>(_ db: Database, origin: String, _ decide: (WitnessedLog?) throws -> (T, WitnessedLog?)) throws -> T {
        let (result, new) = try decide(try fetch(db, origin: origin))
        if let new {
            precondition(new.origin == origin)
            try save(new, in: db)
        }
        return result
    }

    /// Starts (or resumes) witnessing the log of `logKey` under `origin`. A log the witness
    /// knew under the same key keeps its size and root; a new key for the origin is a new log,
    /// witnessed from nothing.
    static func activate(_ db: Database, origin: String, logKey: String) throws {
        if var known = try fetch(db, origin: origin) {
            if known.logKey != logKey {
                known = WitnessedLog(origin: origin, logKey: logKey)
            }
            known.active = true
            try save(known, in: db)
        } else {
            try save(WitnessedLog(origin: origin, logKey: logKey), in: db)
        }
    }

    static func deactivate(_ db: Database, origin: String) throws {
        try db.execute(sql: "UPDATE witnessed_log SET active = 0 WHERE origin = ?", arguments: [origin])
    }
}

extension VaultStore: WitnessStateStore {
    public func witnessedLog(origin: String) async throws -> WitnessedLog? {
        try await read("read the witness state") { try WitnessTables.fetch($0, origin: origin) }
    }

    public func updateWitnessedLog<T: Sendable>(origin: String, _ decide: @Sendable @escaping (WitnessedLog?) throws -> (T, WitnessedLog?)) async throws -> T {
        try await write("update the witness state") { try WitnessTables.update($0, origin: origin, decide) }
    }

    public func witnessedLogs() async throws -> [WitnessedLog] {
        try await read("read the witness state") { try WitnessTables.fetchAll($0) }
    }
}

/// An organization's witness state (`vault-cli org witness serve`): a database file of its
/// own holding only the witness tables (WAL, `synchronous=FULL`: a cosigned state survives power loss).
public final class WitnessDatabase: WitnessStateStore {
    let queue: DatabaseQueue

    public init(path: String) throws {
        var config = GRDB.Configuration()
        config.busyMode = .timeout(5)
        config.prepareDatabase { db in try db.execute(sql: "PRAGMA synchronous = FULL;") }
        do {
            queue = try DatabaseQueue(path: path, configuration: config)
            // WAL, like the vault's database: one fsync per cosigned checkpoint, not a
            // journal file made and removed each time.
            try queue.writeWithoutTransaction { try $0.execute(sql: "PRAGMA journal_mode = WAL") }
            VaultStore.restrictPermissions(path)
            var migrator = DatabaseMigrator()
            migrator.registerMigration("v1-witness") { db in try db.execute(sql: WitnessTables.sql) }
            try migrator.migrate(queue)
        } catch {
            throw VaultError(.storageUnavailable, "cannot open the witness database \(path): \(error)")
        }
    }

    /// Witnesses the log of `logKey` (its name is the origin) from now on.
    public func addLog(origin: String, logKey: String) throws {
        try queue.write { try WitnessTables.activate($0, origin: origin, logKey: logKey) }
    }

    public func witnessedLog(origin: String) async throws -> WitnessedLog? {
        try await queue.read { try WitnessTables.fetch($0, origin: origin) }
    }

    public func updateWitnessedLog<T: Sendable>(origin: String, _ decide: @Sendable @escaping (WitnessedLog?) throws -> (T, WitnessedLog?)) async throws -> T {
        try await queue.write { try WitnessTables.update($0, origin: origin, decide) }
    }

    public func witnessedLogs() async throws -> [WitnessedLog] {
        try await queue.read { try WitnessTables.fetchAll($0) }
    }
}
