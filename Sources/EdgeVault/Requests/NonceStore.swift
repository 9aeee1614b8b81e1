/// Remembers every accepted RFC 9421 nonce until its signature's window has passed, on disk,
/// so that a replay is refused even after a restart — with group commit: concurrent calls
/// share one durable transaction instead of paying one fsync each.
public actor NonceStore {
    let store: VaultStore
    /// Nonces accepted by this process (key id + nonce → expiry), checked before the disk.
    var recent: [String: Int64] = [:]
    var pending: [(keyId: String, nonce: String, expiresAt: Int64)] = []
    var round = CommitRound()
    var committing = false

    public init(store: VaultStore) {
        self.store = store
    }

    /// Accepts `nonce` for `keyId` once; returns when it is durably recorded. Throws
    /// `nonce_replayed` for a nonce seen before (in this process or on disk).
    public func record(keyId: String, nonce: String, expiresAt: Int64, now: Int64) async throws {
        let key = keyId + " " + nonce
        let seenBefore = try recent[key] != nil || store.nonceSeen(keyId: keyId, nonce: nonce)
        if seenBefore {
            throw VaultError(.nonceReplayed, "this signature's nonce was already used: sign every call with a fresh nonce")
        }
        recent[key] = expiresAt
        if recent.count > 100_000 { recent = recent.filter { $0.value >= now } }
        pending.append((keyId, nonce, expiresAt))
        let mine = round
        if !committing {
            committing = true
            Task { await self.commitLoop(now: now) }
        }
        try await mine.wait()
    }

    private func commitLoop(now: Int64) async {
        while !pending.isEmpty {
            let batch = pending
            pending = []
            let current = round
            round = CommitRound()
            do {
                try await store.recordNonces(batch, now: now)
                current.complete(.success(()))
            } catch {
                current.complete(.failure(error))
            }
        }
        committing = false
    }
}

extension VaultStore {
    public func nonceSeen(keyId: String, nonce: String) throws -> Bool {
        try read("check a nonce") { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM http_nonce WHERE keyId = ? AND nonce = ?", arguments: [keyId, nonce]) != nil
        }
    }

    /// Records accepted nonces in one transaction, dropping ones whose window has passed.
    public func recordNonces(_ batch: [(keyId: String, nonce: String, expiresAt: Int64)], now: Int64) async throws {
        try await write("record nonces") { db in
            try db.execute(sql: "DELETE FROM http_nonce WHERE expiresAt < ?", arguments: [now - 600])
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO http_nonce (keyId, nonce, expiresAt) VALUES (?, ?, ?)")
            for n in batch { try insert.execute(arguments: [n.keyId, n.nonce, n.expiresAt]) }
        }
    }
}

import GRDB
