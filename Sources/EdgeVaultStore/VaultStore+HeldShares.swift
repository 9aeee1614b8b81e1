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
            try Self.checkQuota(db, sender: share.sender, adding: Self.charge(share.length), quota: quota, what: "this share")
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

    /// What a share counts against its sender's quota: its length, and at least 4 KiB (a file
    /// and a row cost that much, so empty shares cannot pile up for free).
    public static func charge(_ length: Int) -> Int64 { Int64(max(length, Self.minimumCharge)) }
    static let minimumCharge = 4096
    /// Shares and deposits kept for one sender at most, whatever their bytes.
    public static let maxHeldItems = 100_000

    /// Bytes counted against `sender`'s quota: its shares (each at least 4 KiB) and deposits.
    static func heldBytes(_ db: Database, sender: String) throws -> Int64 {
        let shares = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(max(length, ?)), 0) FROM held_share WHERE sender = ?",
                                        arguments: [minimumCharge, sender]) ?? 0
        let deposits = try Int64.fetchOne(db, sql: "SELECT coalesce(sum(length(deposit)), 0) FROM held_set WHERE sender = ?", arguments: [sender]) ?? 0
        return shares + deposits
    }

    static func checkQuota(_ db: Database, sender: String, adding bytes: Int64, quota: Int64, what: String) throws {
        let used = try heldBytes(db, sender: sender)
        guard used + bytes <= quota else {
            throw VaultError(.quotaExceeded, "this peer keeps at most \(quota) bytes of shares for your vault; \(used) are used and \(what) counts \(bytes)")
        }
        let items = (try Int.fetchOne(db, sql: "SELECT count(*) FROM held_share WHERE sender = ?", arguments: [sender]) ?? 0)
            + (try Int.fetchOne(db, sql: "SELECT count(*) FROM held_set WHERE sender = ?", arguments: [sender]) ?? 0)
        guard items < maxHeldItems else {
            throw VaultError(.quotaExceeded, "this peer keeps at most \(maxHeldItems) shares and deposits for your vault; delete old sets first")
        }
    }

    /// Bytes counted against `sender`'s quota.
    public func heldBytes(sender: String) async throws -> Int64 {
        try await read("count a peer's shares") { db in try Self.heldBytes(db, sender: sender) }
    }

    /// Forgets a set held for `sender`: its deposit and its shares' rows. Returns the share
    /// numbers whose files the caller removes.
    public func forgetHeldSet(storageIndex: String, sender: String) async throws -> [Int] {
        try await write("forget a peer's set") { db in
            let ns = try Int.fetchAll(db, sql: "SELECT n FROM held_share WHERE storageIndex = ? AND sender = ?", arguments: [storageIndex, sender])
            try db.execute(sql: "DELETE FROM held_share WHERE storageIndex = ? AND sender = ?", arguments: [storageIndex, sender])
            try db.execute(sql: "DELETE FROM held_set WHERE storageIndex = ? AND sender = ?", arguments: [storageIndex, sender])
            return ns
        }
    }

    /// Forgets everything held for `sender` (its person removed it as a peer), in `db`'s
    /// transaction. Returns the shares whose files the caller removes.
    static func forgetHeld(_ db: Database, sender: String) throws -> [(storageIndex: String, n: Int)] {
        let rows = try Row.fetchAll(db, sql: "SELECT storageIndex, n FROM held_share WHERE sender = ?", arguments: [sender])
        try db.execute(sql: "DELETE FROM held_share WHERE sender = ?", arguments: [sender])
        try db.execute(sql: "DELETE FROM held_set WHERE sender = ?", arguments: [sender])
        return rows.map { (storageIndex: $0[0], n: $0[1]) }
    }

    /// Keeps the deposit (docs/PROTOCOL.md §"Fragments", "Deposits": checked by the caller) of a
    /// set whose shares this vault holds for `sender`, counted against its quota.
    public func keepDeposit(storageIndex: String, sender: String, leafIndex: Int64, deposit: [UInt8], quota: Int64, now: Int64) async throws {
        try await write("keep a peer's deposit") { db in
            guard try Int.fetchOne(db, sql: "SELECT count(*) FROM held_share WHERE storageIndex = ? AND sender = ?", arguments: [storageIndex, sender]) ?? 0 > 0 else {
                throw VaultError(.notFound, "this peer holds no share of \(storageIndex): send the shares first")
            }
            let old = try Int64.fetchOne(db, sql: "SELECT length(deposit) FROM held_set WHERE storageIndex = ?", arguments: [storageIndex]) ?? 0
            try Self.checkQuota(db, sender: sender, adding: Int64(deposit.count) - old, quota: quota, what: "this deposit")
            try db.execute(sql: "INSERT OR REPLACE INTO held_set (storageIndex, sender, leafIndex, deposit, storedAt) VALUES (?, ?, ?, ?, ?)",
                           arguments: [storageIndex, sender, leafIndex, Data(deposit), now])
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

    /// One page of the deposits kept for `senders` (their JSON bytes) after the cursor `after`:
    /// at most `maxCount` of them or `maxBytes` (at least one), and the cursor of the next page.
    public func deposits(senders: [String], after: Int64 = 0, maxCount: Int, maxBytes: Int) async throws -> (deposits: [[UInt8]], next: Int64?) {
        try await read("list a peer's deposits") { db in
            guard !senders.isEmpty else { return ([], nil) }
            let marks = Array(repeating: "?", count: senders.count).joined(separator: ",")
            let rows = try Row.fetchCursor(db, sql: "SELECT rowid, deposit FROM held_set WHERE sender IN (\(marks)) AND rowid > ? ORDER BY rowid",
                                           arguments: StatementArguments(senders.map { $0 as any DatabaseValueConvertible } + [after]))
            var out: [[UInt8]] = [], bytes = 0
            while let row = try rows.next() {
                let deposit: Data = row[1]
                if !out.isEmpty && (out.count == maxCount || bytes + deposit.count > maxBytes) { return (out, row[0] as Int64 - 1) }
                out.append([UInt8](deposit))
                bytes += deposit.count
            }
            return (out, nil)
        }
    }
}

/// Recovery shares peers left here, sealed to this vault's witness key (docs/PROTOCOL.md
/// §"Key recovery", "Shares sealed to peers"): one per peer, the newest split's.
extension VaultStore {
    public func keepRecoveryShare(sender: String, share: [UInt8], now: Int64) async throws {
        try await write("keep a peer's recovery share") { db in
            try db.execute(sql: "INSERT OR REPLACE INTO held_recovery_share (sender, share, storedAt) VALUES (?, ?, ?)",
                           arguments: [sender, Data(share), now])
        }
    }

    public func heldRecoveryShare(sender: String) async throws -> (share: [UInt8], storedAt: Int64)? {
        try await read("read a peer's recovery share") { db in
            try Row.fetchOne(db, sql: "SELECT share, storedAt FROM held_recovery_share WHERE sender = ?", arguments: [sender]).map { row in
                let share: Data = row[0]
                return ([UInt8](share), row[1])
            }
        }
    }

    /// Records in the ledger that the person opened `sender`'s recovery share.
    public func recordRecoveryShareOpened(sender: String, name: String, now: Int64) async throws -> Int64 {
        try await write("record an opened recovery share") { db in
            try Self.appendLeaf(LedgerLeaf(kind: .recoveryShareOpened, fields: ["peer": .string(sender), "name": .string(name)], time: now), in: db)
        }
    }
}
