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

    /// Loads the nonces whose window has not passed, so a replay across a restart is caught
    /// without a database read per call.
    public init(store: VaultStore, now: Int64 = Timestamp.now() / 1000) throws {
        self.store = store
        for n in try store.liveNonces(now: now) { recent[n.keyId + " " + n.nonce] = n.expiresAt }
    }

    /// Accepts `nonce` for `keyId` once; returns when it is durably recorded. Throws
    /// `nonce_replayed` for a nonce seen before (in this process or on disk).
    public func record(keyId: String, nonce: String, expiresAt: Int64, now: Int64) async throws {
        let key = keyId + " " + nonce
        if recent[key] != nil {
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
                // Not recorded, so not accepted: the callers fail and may retry with these nonces.
                for n in batch { recent[n.keyId + " " + n.nonce] = nil }
                current.complete(.failure(error))
            }
        }
        committing = false
    }
}

extension VaultStore {
    /// Nonces whose window has not passed yet.
    public func liveNonces(now: Int64) throws -> [(keyId: String, nonce: String, expiresAt: Int64)] {
        try read("read nonces") { db in
            try Row.fetchAll(db, sql: "SELECT keyId, nonce, expiresAt FROM http_nonce WHERE expiresAt >= ?", arguments: [now])
                .map { ($0[0], $0[1], $0[2]) }
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
