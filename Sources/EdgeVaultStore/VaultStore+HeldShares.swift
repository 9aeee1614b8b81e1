import EdgeVaultCore
import GRDB
#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif

/// A share this vault holds for a peer (docs/PROTOCOL.md §"Fragments"); its bytes are a file.
public struct HeldShare: Sendable, Equatable {
    public var storageIndex: String
    public var n: Int
    /// The sending vault's log origin.
    public var sender: String
    public var k: Int
    public var total: Int
    public var setSize: Int
    public var length: Int
    public var sha256: [UInt8]
    /// The sending vault's person's Ed25519 key: who may fetch the share to restore.
    public var owner: [UInt8]
    public var storedAt: Int64

    public init(storageIndex: String, n: Int, sender: String, k: Int, total: Int, setSize: Int, length: Int, sha256: [UInt8], owner: [UInt8],
                storedAt: Int64) {
        self.storageIndex = storageIndex
        self.n = n
        self.sender = sender
        self.k = k
        self.total = total
        self.setSize = setSize
        self.length = length
        self.sha256 = sha256
        self.owner = owner
        self.storedAt = storedAt
    }
}

/// The shares this vault keeps for its peers.
extension VaultStore {
    /// What `admitShare` did.
    public enum Admission: Sendable, Equatable {
        case stored
        /// The same bytes were already stored under that index and number.
        case unchanged
    }

    /// Admits one share in one transaction: refuses a set whose `k`, `n` or size differ from its
    /// earlier shares', other bytes under an index and number already used, and a share that
    /// would take the sender over `quota` bytes. Once the row is in, `commit` runs (it moves
    /// the share's file into place) before the transaction commits.
    public func admitShare(_ share: HeldShare, quota: Int64, commit: @Sendable @escaping () throws -> Void) async throws -> Admission {
        try await write("store a peer's share") { db in
            if let old = try Row.fetchOne(db, sql: "SELECT sha256 FROM held_share WHERE storageIndex = ? AND n = ?",
                                          arguments: [share.storageIndex, share.n]) {
                let digest: Data = old[0]
                guard [UInt8](digest) == share.sha256 else {
                    throw VaultError(.peerConflict, "share \(share.n) of \(share.storageIndex) is already stored with other bytes; a set's shares never change (place a new set)")
                }
                return .unchanged
            }
            if let other = try Row.fetchOne(db, sql: "SELECT k, total, setSize FROM held_share WHERE storageIndex = ? LIMIT 1",
                                            arguments: [share.storageIndex]) {
                let (k, total, size): (Int, Int, Int) = (other[0], other[1], other[2])
                guard k == share.k, total == share.total, size == share.setSize else {
                    throw VaultError(.shareInvalid, "the set \(share.storageIndex) is \(k)-of-\(total) over \(size) bytes; this share says \(share.k)-of-\(share.total) over \(share.setSize)")
                }
            }
            if let known = try Data.fetchOne(db, sql: "SELECT owner FROM held_share WHERE sender = ? LIMIT 1", arguments: [share.sender]),
               [UInt8](known) != share.owner {
                throw VaultError(.peerConflict, "this peer keeps shares of your vault for another owner key; a vault's owner never changes")
            }
            let used = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(length), 0) FROM held_share WHERE sender = ?", arguments: [share.sender]) ?? 0
            guard used + Int64(share.length) <= quota else {
                throw VaultError(.quotaExceeded, "this peer keeps at most \(quota) bytes of shares for your vault; \(used) are used and this share is \(share.length)")
            }
            try db.execute(sql: """
                INSERT INTO held_share (storageIndex, n, sender, k, total, setSize, length, sha256, owner, storedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [share.storageIndex, share.n, share.sender, share.k, share.total, share.setSize, share.length,
                                 Data(share.sha256), Data(share.owner), share.storedAt])
            try commit()
            return .stored
        }
    }

    /// The share stored under `storageIndex` and `n`, if any.
    public func heldShare(storageIndex: String, n: Int) async throws -> HeldShare? {
        try await read("read a peer's share") { db in
            try Row.fetchOne(db, sql: "SELECT storageIndex, n, sender, k, total, setSize, length, sha256, owner, storedAt FROM held_share WHERE storageIndex = ? AND n = ?",
                             arguments: [storageIndex, n]).map { row in
                let digest: Data = row[7], owner: Data = row[8]
                return HeldShare(storageIndex: row[0], n: row[1], sender: row[2], k: row[3], total: row[4], setSize: row[5], length: row[6],
                                 sha256: [UInt8](digest), owner: [UInt8](owner), storedAt: row[9])
            }
        }
    }

    /// Bytes of shares held for `sender`.
    public func heldBytes(sender: String) async throws -> Int64 {
        try await read("count a peer's shares") { db in
            try Int64.fetchOne(db, sql: "SELECT coalesce(sum(length), 0) FROM held_share WHERE sender = ?", arguments: [sender]) ?? 0
        }
    }

    /// Keeps the `fragments.placed` leaf (exact bytes, and its index in the sender's log) of a set
    /// whose shares this vault holds, for the sender's person to find when restoring.
    public func keepSetLeaf(storageIndex: String, sender: String, leafIndex: Int64, leaf: [UInt8], now: Int64) async throws {
        try await write("keep a peer's set leaf") { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM held_share WHERE storageIndex = ? AND sender = ?", arguments: [storageIndex, sender]) ?? 0 > 0 else {
                throw VaultError(.notFound, "this peer holds no share of \(storageIndex): send the shares first")
            }
            try db.execute(sql: "INSERT OR REPLACE INTO held_set (storageIndex, sender, leafIndex, leaf, storedAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [storageIndex, sender, leafIndex, Data(leaf), now])
        }
    }

    /// The owner keys of the vaults this vault holds shares for, by sender origin.
    public func shareOwners() async throws -> [String: [UInt8]] {
        try await read("list share owners") { db in
            var out: [String: [UInt8]] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT sender, owner FROM held_share GROUP BY sender") {
                let owner: Data = row[1]
                out[row[0]] = [UInt8](owner)
            }
            return out
        }
    }

    /// The set leaves kept for `senders`, in log order.
    public func setLeaves(senders: [String]) async throws -> [(leafIndex: Int64, leaf: [UInt8])] {
        try await read("list a peer's set leaves") { db in
            var out: [(Int64, [UInt8])] = []
            for sender in senders {
                for row in try Row.fetchAll(db, sql: "SELECT leafIndex, leaf FROM held_set WHERE sender = ? ORDER BY leafIndex", arguments: [sender]) {
                    let leaf: Data = row[1]
                    out.append((row[0], [UInt8](leaf)))
                }
            }
            return out.map { (leafIndex: $0.0, leaf: $0.1) }
        }
    }
}
