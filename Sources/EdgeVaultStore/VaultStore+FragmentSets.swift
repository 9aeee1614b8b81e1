import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

extension VaultStore {
    /// An audit question whose answer was computed from the share itself: SHA-256(nonce ‖ share).
    public struct Challenge: Sendable, Equatable {
        public var nonce: [UInt8]
        public var proof: [UInt8]
        public init(nonce: [UInt8], proof: [UInt8]) {
            self.nonce = nonce
            self.proof = proof
        }
    }

    /// Records a set placed on the peers: its `fragments.placed` leaf, its rows and its shares'
    /// audit challenges, in one transaction; a set that replaces another (a repair) marks that
    /// one replaced.
    public func recordFragmentSet(_ set: FragmentSet, codec: String, replaces: String? = nil, challenges: [Int: [Challenge]] = [:],
                                  now: Int64) async throws -> Int64 {
        try await write("record a fragment set") { db in
            let leaf = LedgerLeaf(kind: .fragmentsPlaced, fields: set.leafFields(codec: codec, replaces: replaces), time: now)
            let index = try Self.appendLeaf(leaf, in: db)
            try Self.insertFragmentSet(set, leafIndex: index, replaces: replaces, placedAt: now, in: db)
            for (n, list) in challenges { try Self.insertChallenges(list, storageIndex: set.storageIndex, n: n, in: db) }
            return index
        }
    }

    static func insertFragmentSet(_ set: FragmentSet, leafIndex: Int64, replaces: String?, placedAt: Int64, in db: Database) throws {
        try db.execute(sql: """
            INSERT OR IGNORE INTO fragment_set (storageIndex, leafIndex, push, segment, segments, k, n, size, sha256, placedAt)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """, arguments: [set.storageIndex, leafIndex, set.push, set.segment, set.segments, set.k, set.n, set.size, set.sha256, placedAt])
        for s in set.shares {
            try db.execute(sql: "INSERT OR IGNORE INTO fragment_share (storageIndex, n, peer, url, sha256) VALUES (?, ?, ?, ?, ?)",
                           arguments: [set.storageIndex, s.n, s.peer, s.url, s.sha256])
        }
        if let replaces {
            try db.execute(sql: "UPDATE fragment_set SET replacedBy = ? WHERE storageIndex = ?", arguments: [set.storageIndex, replaces])
        }
    }

    /// Forgets a set deleted from its holders (a newer push replaced it); its leaf stays in the log.
    public func forgetFragmentSet(storageIndex: String) async throws {
        try await write("forget a fragment set") { db in
            for table in ["fragment_challenge", "fragment_share", "fragment_set"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE storageIndex = ?", arguments: [storageIndex])
            }
        }
    }

    /// Every set placed, oldest first, with each share's last audit.
    public func fragmentSets() async throws -> [FragmentSet] {
        try await read("list fragment sets") { db in
            let shares = try Row.fetchAll(db, sql: "SELECT storageIndex, n, peer, url, sha256, auditedAt, healthy, lastError FROM fragment_share ORDER BY storageIndex, n")
            var byIndex: [String: [FragmentSet.Share]] = [:]
            for r in shares {
                byIndex[r[0], default: []].append(FragmentSet.Share(n: r[1], peer: r[2], url: r[3], sha256: r[4], auditedAt: r[5],
                                                                     healthy: (r[6] as Int?).map { $0 != 0 }, lastError: r[7]))
            }
            return try Row.fetchAll(db, sql: """
                SELECT storageIndex, leafIndex, push, segment, segments, k, n, size, sha256, placedAt, replacedBy
                FROM fragment_set ORDER BY leafIndex
                """).map { r in
                FragmentSet(storageIndex: r[0], leafIndex: r[1], push: r[2], segment: r[3], segments: r[4], k: r[5], n: r[6], size: r[7],
                            sha256: r[8], placedAt: r[9], replacedBy: r[10], shares: byIndex[r[0]] ?? [])
            }
        }
    }

    /// Bytes of the database in use (its pages less the free ones).
    public func usedDatabaseBytes() async throws -> Int {
        try await read("measure the database") { db in
            let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0
            let free = try Int.fetchOne(db, sql: "PRAGMA freelist_count") ?? 0
            let size = try Int.fetchOne(db, sql: "PRAGMA page_size") ?? 4096
            return (pages - free) * size
        }
    }

    /// The outcome of one share's audit.
    public func recordShareAudit(storageIndex: String, n: Int, healthy: Bool, error: String?, now: Int64) async throws {
        try await write("record a share audit") { db in
            try db.execute(sql: "UPDATE fragment_share SET auditedAt = ?, healthy = ?, lastError = ? WHERE storageIndex = ? AND n = ?",
                           arguments: [now, healthy ? 1 : 0, error.map { String($0.prefix(300)) }, storageIndex, n])
        }
    }

    static func insertChallenges(_ list: [Challenge], storageIndex: String, n: Int, in db: Database) throws {
        for c in list {
            try db.execute(sql: "INSERT INTO fragment_challenge (storageIndex, n, nonce, proof) VALUES (?, ?, ?, ?)",
                           arguments: [storageIndex, n, Data(c.nonce), Data(c.proof)])
        }
    }

    /// Takes one unused challenge of a share (each is asked once: a holder cannot replay an answer).
    public func takeChallenge(storageIndex: String, n: Int) async throws -> Challenge? {
        try await write("take an audit challenge") { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, nonce, proof FROM fragment_challenge WHERE storageIndex = ? AND n = ? ORDER BY id LIMIT 1",
                                             arguments: [storageIndex, n]) else { return nil }
            try db.execute(sql: "DELETE FROM fragment_challenge WHERE id = ?", arguments: [row[0] as Int64])
            let nonce: Data = row[1], proof: Data = row[2]
            return Challenge(nonce: [UInt8](nonce), proof: [UInt8](proof))
        }
    }

    /// New challenges for a share whose bytes were fetched and checked again.
    public func addChallenges(_ list: [Challenge], storageIndex: String, n: Int) async throws {
        try await write("store audit challenges") { db in try Self.insertChallenges(list, storageIndex: storageIndex, n: n, in: db) }
    }
}

extension VaultStore {
    /// After a restore from fragments: appends the leaves (each proven to be in the vault's log:
    /// `FragmentDeposit.verify`) that continue the restored log exactly (a leaf whose index is
    /// the log's size, then the next…), byte for byte, so the log is again the one the witnesses
    /// cosigned, and records their sets so that the restored vault audits them. Returns how many
    /// were appended; stops at the first gap.
    public func replayLeaves(_ leaves: [(leafIndex: Int64, leaf: [UInt8])], codec: String) async throws -> Int {
        try await write("replay the fragment leaves") { db in
            var appended = 0
            for (index, bytes) in leaves.sorted(by: { $0.leafIndex < $1.leafIndex }) {
                let size = try Self.ledgerSize(in: db)
                if index < size { continue }
                guard index == size else { break }
                try Self.appendLeaf(try LedgerLeaf(bytes: bytes), in: db)
                if let set = FragmentSet(leafIndex: index, leaf: bytes, codec: codec) {
                    try Self.insertFragmentSet(set, leafIndex: index, replaces: set.replaces, placedAt: set.placedAt, in: db)
                }
                appended += 1
            }
            return appended
        }
    }
}
