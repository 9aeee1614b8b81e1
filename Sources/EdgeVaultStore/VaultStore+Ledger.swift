import EdgeVaultCore
import GRDB
import NIOCore
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// Stored hashes read inside one database access.
struct DatabaseHashReader: MerkleHashReader {
    let db: Database

    func hashes(_ ids: [Merkle.NodeID]) throws -> [Merkle.Hash] {
        let statement = try db.cachedStatement(sql: "SELECT hash FROM ledger_hash WHERE level = ? AND idx = ?")
        return try ids.map { id in
            guard let data = try Data.fetchOne(statement, arguments: [id.level, id.index]) else {
                throw Merkle.ProofError(message: "stored hash \(id) is missing")
            }
            return [UInt8](data)
        }
    }
}

extension VaultStore {
    /// One stored leaf, with the leaf hash the database holds for it.
    public struct StoredLeaf: Sendable, Equatable {
        public var index: Int64
        public var data: [UInt8]
        public var storedHash: [UInt8]

        package init(index: Int64, data: [UInt8], storedHash: [UInt8]) {
            self.index = index
            self.data = data
            self.storedHash = storedHash
        }
    }

    public struct StoredCheckpoint: Sendable, Equatable {
        public var size: Int64
        public var root: [UInt8]
        public var note: String
        public var createdAt: Int64

        package init(size: Int64, root: [UInt8], note: String, createdAt: Int64) {
            self.size = size
            self.root = root
            self.note = note
            self.createdAt = createdAt
        }
    }

    /// Appends `leaf` inside the caller's transaction, so that the event it records and the
    /// leaf commit or roll back together. Returns the leaf's index.
    @discardableResult
    public static func appendLeaf(_ leaf: LedgerLeaf, in db: Database) throws -> Int64 {
        let index = try ledgerSize(in: db)
        try db.execute(sql: "INSERT INTO ledger_leaf (idx, data, type, org, time) VALUES (?, ?, ?, ?, ?)",
                       arguments: [index, Data(leaf.bytes), leaf.type, leaf.org, leaf.time])
        let reader = DatabaseHashReader(db: db)
        let insert = try db.cachedStatement(sql: "INSERT INTO ledger_hash (level, idx, hash) VALUES (?, ?, ?)")
        for (id, hash) in try Merkle.hashesToStore(index: index, leafHash: leaf.hash, left: { try reader.hashes([$0])[0] }) {
            try insert.execute(arguments: [id.level, id.index, Data(hash)])
        }
        if leaf.type == LedgerLeaf.Kind.dataReleased.rawValue { try countRelease(leaf, in: db) }
        return index
    }

    /// Adds a `data.released` leaf to its grant's counters, in the leaf's transaction: one more
    /// page served, and its readings once per distinct page (an organization that downloads the
    /// same chunks again has not received more).
    static func countRelease(_ leaf: LedgerLeaf, in db: Database) throws {
        guard let org = leaf.org, let page = LedgerEvent.DataReleased(leaf) else { return }
        try db.execute(sql: "INSERT OR IGNORE INTO released_page (org, grantId, segment, firstSeq, lastSeq) VALUES (?, ?, ?, ?, ?)",
                       arguments: [org, page.grant, page.segment, page.firstSeq, page.lastSeq])
        let fresh = db.changesCount > 0
        try db.execute(sql: "UPDATE grant_record SET releasePages = releasePages + 1, releaseReadings = releaseReadings + ? WHERE org = ? AND id = ?",
                       arguments: [fresh ? page.count : 0, org, page.grant])
    }

    static func ledgerSize(in db: Database) throws -> Int64 {
        (try Int64.fetchOne(db, sql: "SELECT max(idx) FROM ledger_leaf") ?? -1) + 1
    }

    /// Appends leaves in their own transaction (tests, tools).
    @discardableResult
    public func appendLeaves(_ leaves: [LedgerLeaf]) async throws -> [Int64] {
        try await write("append to the ledger") { db in try leaves.map { try Self.appendLeaf($0, in: db) } }
    }

    public func ledgerSize() async throws -> Int64 {
        try await read("read the ledger") { try Self.ledgerSize(in: $0) }
    }

    /// The tree head (size and root) of the current log.
    public func treeHead() async throws -> (size: Int64, root: Merkle.Hash) {
        try await offPool { try self.treeHeadBlocking() }
    }

    /// `treeHead()` on the calling thread (`vault-cli init`).
    public func treeHeadBlocking() throws -> (size: Int64, root: Merkle.Hash) {
        try readBlocking("read the ledger") { db in
            let size = try Self.ledgerSize(in: db)
            return (size, try Merkle.treeHash(size: size, reader: DatabaseHashReader(db: db)))
        }
    }

    public func inclusionProof(index: Int64, size: Int64) async throws -> [Merkle.Hash] {
        try await read("build a proof") { try Merkle.inclusionProof(index: index, size: size, reader: DatabaseHashReader(db: $0)) }
    }

    public func consistencyProof(from: Int64, to: Int64) async throws -> [Merkle.Hash] {
        try await read("build a proof") { try Merkle.consistencyProof(first: from, second: to, reader: DatabaseHashReader(db: $0)) }
    }

    /// Leaves from `index` on, at most `limit`, optionally only of one type or about one organization.
    public func leaves(from index: Int64, limit: Int, type: String? = nil, org: String? = nil) async throws -> [StoredLeaf] {
        try await read("read the ledger") { db in
            var sql = "SELECT l.idx, l.data, h.hash FROM ledger_leaf l LEFT JOIN ledger_hash h ON h.level = 0 AND h.idx = l.idx WHERE l.idx >= ?"
            var args: [any DatabaseValueConvertible] = [index]
            if let type { sql += " AND l.type = ?"; args.append(type) }
            if let org { sql += " AND l.org = ?"; args.append(org) }
            sql += " ORDER BY l.idx LIMIT ?"
            args.append(limit)
            return try Row.fetchAll(db, sql: sql, arguments: StatementArguments(args)).map { row in
                StoredLeaf(index: row[0], data: [UInt8](row[1] as Data), storedHash: [UInt8]((row[2] as Data?) ?? Data()))
            }
        }
    }

    /// Writes leaves from `index` in `RawLeafPage` form straight from the database rows into
    /// `buffer`; returns the next index when more follow.
    public func rawLeafPage(from index: Int64, limit: Int, into buffer: inout ByteBuffer) async throws -> Int64? {
        let page: (ByteBuffer, Int64?) = try await read("read the ledger") { db in
            var out = ByteBuffer()
            var next: Int64?
            var count = 0
            // Two range scans merged by index: cheaper than a B-tree seek per leaf for its hash.
            let rows = try Row.fetchCursor(db, sql: "SELECT idx, data FROM ledger_leaf WHERE idx >= ? ORDER BY idx LIMIT ?",
                                           arguments: [index, limit + 1])
            let hashes = try Row.fetchCursor(db, sql: "SELECT idx, hash FROM ledger_hash WHERE level = 0 AND idx >= ? ORDER BY idx LIMIT ?",
                                             arguments: [index, limit + 1])
            var hashRow = try hashes.next()
            while let row = try rows.next() {
                let idx: Int64 = row[0]
                if count == limit {
                    next = idx
                    break
                }
                while let h = hashRow, (h[0] as Int64) < idx { hashRow = try hashes.next() }
                let stored = hashRow.flatMap { (($0[0] as Int64) == idx) ? $0.dataNoCopy(atIndex: 1) : nil } ?? Data()
                RawLeafPage.write(index: idx, data: row.dataNoCopy(atIndex: 1) ?? Data(), storedHash: stored, into: &out)
                count += 1
            }
            return (out, next)
        }
        buffer = page.0
        return page.1
    }

    public func leaf(at index: Int64) async throws -> [UInt8]? {
        try await read("read the ledger") { db in
            try Data.fetchOne(db, sql: "SELECT data FROM ledger_leaf WHERE idx = ?", arguments: [index]).map { [UInt8]($0) }
        }
    }

    /// Keeps a signed checkpoint (every one the vault signs is kept).
    public func saveCheckpoint(_ cp: Checkpoint, note: String, at time: Int64) async throws {
        try await offPool { try self.saveCheckpointBlocking(cp, note: note, at: time) }
    }

    /// `saveCheckpoint` on the calling thread (`vault-cli init`).
    public func saveCheckpointBlocking(_ cp: Checkpoint, note: String, at time: Int64) throws {
        try writeBlocking("save a checkpoint") { db in
            try db.execute(sql: "INSERT OR IGNORE INTO ledger_checkpoint (size, root, note, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [cp.size, Data(cp.root), note, time])
        }
    }

    /// Appends a leaf and stores the checkpoint `sign` makes for the new tree head, in one transaction.
    public func appendAndCheckpoint(
        _ leaf: LedgerLeaf, sign: @Sendable @escaping ((size: Int64, root: Merkle.Hash)) -> (Checkpoint, String, Int64)
    ) async throws -> StoredCheckpoint {
        try await write("append to the ledger") { db in
            try Self.appendLeaf(leaf, in: db)
            let size = try Self.ledgerSize(in: db)
            let root = try Merkle.treeHash(size: size, reader: DatabaseHashReader(db: db))
            let (cp, note, time) = sign((size, root))
            try db.execute(sql: "INSERT OR IGNORE INTO ledger_checkpoint (size, root, note, createdAt) VALUES (?, ?, ?, ?)",
                           arguments: [cp.size, Data(cp.root), note, time])
            return StoredCheckpoint(size: cp.size, root: cp.root, note: note, createdAt: time)
        }
    }

    public func latestCheckpoint() async throws -> StoredCheckpoint? {
        try await read("read checkpoints") { db in
            try Row.fetchOne(db, sql: "SELECT size, root, note, createdAt FROM ledger_checkpoint ORDER BY size DESC LIMIT 1").map(Self.checkpoint)
        }
    }

    /// Checkpoints with `size ≥ from`, in size order, at most `limit`.
    public func checkpoints(from size: Int64, limit: Int) async throws -> [StoredCheckpoint] {
        try await read("read checkpoints") { db in
            try Row.fetchAll(db, sql: "SELECT size, root, note, createdAt FROM ledger_checkpoint WHERE size >= ? ORDER BY size LIMIT ?",
                             arguments: [size, limit]).map(Self.checkpoint)
        }
    }

    static func checkpoint(_ row: Row) -> StoredCheckpoint {
        StoredCheckpoint(size: row[0], root: [UInt8](row[1] as Data), note: row[2], createdAt: row[3])
    }
}
