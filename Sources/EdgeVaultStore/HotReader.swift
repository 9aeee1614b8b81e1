import EdgeVaultCore
import GRDB
import GRDBSQLite
import Synchronization

/// The lookups every signed call makes (its organization's key, its request's status), on a
/// read-only SQLite connection of their own through SQLite's C API, with statements prepared
/// once. Through `DatabasePool.read` the same one-row lookup cost several times the SELECT
/// itself (a transaction, a schema check, queue hops; see the `requests` benchmark); here it is
/// one bound statement under a lock. A single statement runs on one snapshot of the database,
/// so no explicit transaction is needed.
final class HotReader: Sendable {
    /// The SQL each lookup runs; each becomes one prepared statement.
    enum Query: Int, CaseIterable {
        case orgKey, requestStatus

        var sql: String {
            switch self {
            case .orgKey: return "SELECT publicKey, trust FROM org WHERE keyId = ?1"
            case .requestStatus:
                return """
                    SELECT r.status, r.expires, r.reason, g.status, g.expires FROM access_request r
                    LEFT JOIN grant_record g ON g.org = r.org AND g.id = r.id WHERE r.org = ?1 AND r.id = ?2
                    """
            }
        }
    }

    /// One result row, readable while the statement is on it.
    struct Columns: ~Copyable {
        fileprivate let statement: OpaquePointer

        func isNull(_ i: Int32) -> Bool { sqlite3_column_type(statement, i) == SQLITE_NULL }

        func text(_ i: Int32) -> String? {
            guard let p = sqlite3_column_text(statement, i) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, i))), as: UTF8.self)
        }

        func int64(_ i: Int32) -> Int64 { sqlite3_column_int64(statement, i) }

        func blob(_ i: Int32) -> [UInt8]? {
            guard let p = sqlite3_column_blob(statement, i) else { return isNull(i) ? nil : [] }
            return Array(UnsafeRawBufferPointer(start: p, count: Int(sqlite3_column_bytes(statement, i))))
        }
    }

    private struct Connection: @unchecked Sendable {
        // Only touched under `state`'s lock.
        var db: OpaquePointer?
        var statements: [OpaquePointer?]
    }

    private let state: Mutex<Connection>

    /// Opens `path` read-only (the database must exist and be migrated) and prepares every query.
    init(path: String) throws {
        var db: OpaquePointer?
        var rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nil)
        var statements: [OpaquePointer?] = []
        if rc == SQLITE_OK {
            sqlite3_busy_timeout(db, 5000)
            for q in Query.allCases where rc == SQLITE_OK {
                var s: OpaquePointer?
                rc = sqlite3_prepare_v3(db, q.sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &s, nil)
                statements.append(s)
            }
        }
        guard rc == SQLITE_OK else {
            let error = DatabaseError(resultCode: ResultCode(rawValue: rc), message: db.map { String(cString: sqlite3_errmsg($0)) })
            for s in statements { sqlite3_finalize(s) }
            sqlite3_close_v2(db)
            throw error
        }
        state = Mutex(Connection(db: db, statements: statements))
    }

    deinit {
        state.withLock { c in
            for s in c.statements { sqlite3_finalize(s) }
            sqlite3_close_v2(c.db)
        }
    }

    /// Runs `query` with text `arguments` and reads its first row, if any.
    func first<T>(_ query: Query, _ arguments: [String], read: (borrowing Columns) -> T) throws -> T? {
        try state.withLock { c -> T? in
            guard let statement = c.statements[query.rawValue] else { return nil }
            return try Self.step(statement, query, arguments, db: c.db, read: read)
        }
    }

    /// The same lookup on a connection of GRDB's (an in-memory store has no file to open twice).
    static func first<T>(_ query: Query, _ arguments: [String], on db: OpaquePointer?, read: (borrowing Columns) -> T) throws -> T? {
        var statement: OpaquePointer?
        defer { sqlite3_finalize(statement) }
        let rc = sqlite3_prepare_v2(db, query.sql, -1, &statement, nil)
        guard rc == SQLITE_OK, let statement else {
            throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db)), sql: query.sql)
        }
        return try step(statement, query, arguments, db: db, read: read)
    }

    private static func step<T>(_ statement: OpaquePointer, _ query: Query, _ arguments: [String], db: OpaquePointer?,
                                read: (borrowing Columns) -> T) throws -> T? {
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (i, argument) in arguments.enumerated() {
            sqlite3_bind_text(statement, Int32(i + 1), argument, -1, Self.transient)
        }
        switch sqlite3_step(statement) {
        case SQLITE_ROW: return read(Columns(statement: statement))
        case SQLITE_DONE: return nil
        case let rc: throw DatabaseError(resultCode: ResultCode(rawValue: rc), message: String(cString: sqlite3_errmsg(db)), sql: query.sql)
        }
    }

    /// SQLite copies the bound text (`SQLITE_TRANSIENT`, a macro Swift does not import).
    private static let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
}
