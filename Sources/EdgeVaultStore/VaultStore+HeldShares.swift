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
    public var storedAt: Int64

    public init(storageIndex: String, n: Int, sender: String, k: Int, total: Int, setSize: Int, length: Int, sha256: [UInt8], storedAt: Int64) {
        self.storageIndex = storageIndex
        self.n = n
        self.sender = sender
        self.k = k
        self.total = total
        self.setSize = setSize
        self.length = length
        self.sha256 = sha256
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
            let used = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(length), 0) FROM held_share WHERE sender = ?", arguments: [share.sender]) ?? 0
            guard used + Int64(share.length) <= quota else {
                throw VaultError(.quotaExceeded, "this peer keeps at most \(quota) bytes of shares for your vault; \(used) are used and this share is \(share.length)")
            }
            try db.execute(sql: """
                INSERT INTO held_share (storageIndex, n, sender, k, total, setSize, length, sha256, storedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [share.storageIndex, share.n, share.sender, share.k, share.total, share.setSize, share.length,
                                 Data(share.sha256), share.storedAt])
            try commit()
            return .stored
        }
    }

    /// The share stored under `storageIndex` and `n`, if any.
    public func heldShare(storageIndex: String, n: Int) async throws -> HeldShare? {
        try await read("read a peer's share") { db in
            try Row.fetchOne(db, sql: "SELECT storageIndex, n, sender, k, total, setSize, length, sha256, storedAt FROM held_share WHERE storageIndex = ? AND n = ?",
                             arguments: [storageIndex, n]).map { row in
                let digest: Data = row[7]
                return HeldShare(storageIndex: row[0], n: row[1], sender: row[2], k: row[3], total: row[4], setSize: row[5], length: row[6],
                                 sha256: [UInt8](digest), storedAt: row[8])
            }
        }
    }

    /// Bytes of shares held for `sender`.
    public func heldBytes(sender: String) async throws -> Int64 {
        try await read("count a peer's shares") { db in
            try Int64.fetchOne(db, sql: "SELECT coalesce(sum(length), 0) FROM held_share WHERE sender = ?", arguments: [sender]) ?? 0
        }
    }
}
