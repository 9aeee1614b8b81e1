import EdgeVaultCore
/// Remembers every accepted RFC 9421 nonce until its signature's window has passed, on disk,
/// so that a replay is refused even after a restart — with group commit: concurrent calls
/// share one durable transaction instead of paying one fsync each.
public actor NonceStore {
    /// A nonce as remembered in memory: 128 bits of SHA-256(keyId ‖ " " ‖ nonce), so each
    /// entry costs a few dozen bytes whatever the lengths the caller chose.
    struct Key: Hashable, Sendable {
        let a: UInt64, b: UInt64

        init(keyId: String, nonce: String) {
            let h = Hash.sha256(Array((keyId + " " + nonce).utf8))
            a = h[0..<8].reduce(0) { $0 << 8 | UInt64($1) }
            b = h[8..<16].reduce(0) { $0 << 8 | UInt64($1) }
        }
    }

    /// Nonces accepted and not yet past their signature's window.
    struct Window: Sendable {
        private(set) var seen: Set<Key> = []
        /// The same nonces by the second their window ends, so forgetting them costs nothing per call.
        private(set) var byExpiry: [Int64: [Key]] = [:]
        private var oldestExpiry: Int64

        init(now: Int64) { oldestExpiry = now }

        func contains(_ key: Key) -> Bool { seen.contains(key) }

        mutating func insert(_ key: Key, until expiresAt: Int64) {
            seen.insert(key)
            byExpiry[expiresAt, default: []].append(key)
            oldestExpiry = min(oldestExpiry, expiresAt)
        }

        /// Takes back a nonce that was not recorded after all (a storage failure), bucket entry
        /// included: the same nonce may come back under a later expiry and must live until then.
        mutating func remove(_ key: Key, until expiresAt: Int64) {
            seen.remove(key)
            if let i = byExpiry[expiresAt]?.lastIndex(of: key) { byExpiry[expiresAt]?.remove(at: i) }
        }

        /// Drops every nonce whose window ended before `now`.
        mutating func forget(before now: Int64) {
            guard oldestExpiry < now else { return }
            // After a long idle time or a clock jump, walk the buckets rather than the seconds.
            let seconds = now - oldestExpiry > 10_000 ? byExpiry.keys.filter { $0 < now } : Array(oldestExpiry..<now)
            for second in seconds {
                for k in byExpiry.removeValue(forKey: second) ?? [] { seen.remove(k) }
            }
            oldestExpiry = now
        }
    }

    let store: VaultStore
    var window: Window
    var pending: [(keyId: String, nonce: String, expiresAt: Int64)] = []
    var round = CommitRound()
    var committing = false

    /// Loads the nonces whose window has not passed, so a replay across a restart is caught
    /// without a database read per call.
    public init(store: VaultStore, now: Int64 = Timestamp.now() / 1000) async throws {
        self.store = store
        var window = Window(now: now)
        for n in try await store.liveNonces(now: now) { window.insert(Key(keyId: n.keyId, nonce: n.nonce), until: n.expiresAt) }
        self.window = window
    }

    /// Accepts `nonce` for `keyId` once; returns when it is durably recorded. Throws
    /// `nonce_replayed` for a nonce seen before (in this process or on disk). `expiresAt` is
    /// the last second the signature could still be accepted: after it the time check refuses
    /// a replay, so the nonce is forgotten (memory is bounded by the call rate × the window).
    public func record(keyId: String, nonce: String, expiresAt: Int64, now: Int64) async throws {
        window.forget(before: now)
        let key = Key(keyId: keyId, nonce: nonce)
        if window.contains(key) {
            throw VaultError(.nonceReplayed, "this signature's nonce was already used: sign every call with a fresh nonce")
        }
        window.insert(key, until: expiresAt)
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
                for n in batch { window.remove(Key(keyId: n.keyId, nonce: n.nonce), until: n.expiresAt) }
                current.complete(.failure(error))
            }
        }
        committing = false
    }
}

extension VaultStore {
    /// Nonces whose window has not passed yet.
    public func liveNonces(now: Int64) async throws -> [(keyId: String, nonce: String, expiresAt: Int64)] {
        try await read("read nonces") { db in
            try Row.fetchAll(db, sql: "SELECT keyId, nonce, expiresAt FROM http_nonce WHERE expiresAt >= ?", arguments: [now])
                .map { ($0[0], $0[1], $0[2]) }
        }
    }

    /// Records accepted nonces in one transaction, dropping ones whose window has passed.
    public func recordNonces(_ batch: [(keyId: String, nonce: String, expiresAt: Int64)], now: Int64) async throws {
        try await write("record nonces") { db in
            try db.execute(sql: "DELETE FROM http_nonce WHERE expiresAt < ?", arguments: [now])
            let insert = try db.cachedStatement(sql: "INSERT OR IGNORE INTO http_nonce (keyId, nonce, expiresAt) VALUES (?, ?, ?)")
            for n in batch { try insert.execute(arguments: [n.keyId, n.nonce, n.expiresAt]) }
        }
    }
}

import GRDB
