import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("RFC 9421 nonces: remembered for their window only")
struct NonceStoreTests {
    @Test("A nonce is refused a second time inside its window, also after a restart, and forgotten once its window has passed")
    func window() async throws {
        let vault = try TestVault()
        let t0: Int64 = 1_800_000_000
        let nonces = try await NonceStore(store: vault.store, now: t0)
        try await nonces.record(keyId: "k1", nonce: "n1", expiresAt: t0 + 300, now: t0)
        try await nonces.record(keyId: "k2", nonce: "n1", expiresAt: t0 + 300, now: t0)  // another key, same nonce: fine
        await #expect(throws: VaultError.self) { try await nonces.record(keyId: "k1", nonce: "n1", expiresAt: t0 + 300, now: t0 + 300) }

        // A restart inside the window loads what is still live from disk.
        let restarted = try await NonceStore(store: vault.store, now: t0 + 200)
        #expect(await restarted.window.seen.count == 2)
        await #expect(throws: VaultError.self) { try await restarted.record(keyId: "k2", nonce: "n1", expiresAt: t0 + 300, now: t0 + 200) }

        // Past the window (where the created check refuses the signature anyway) memory and disk let go.
        try await restarted.record(keyId: "k3", nonce: "n2", expiresAt: t0 + 700, now: t0 + 400)
        #expect(await restarted.window.seen.count == 1)
        #expect(await restarted.window.byExpiry.count == 1)
        #expect(try await vault.store.liveNonces(now: 0).map(\.keyId) == ["k3"])
    }

    @Test("Memory is bounded by the calls inside one window: 100,000 calls over 1,000 s keep about 300 s of them")
    func bounded() async throws {
        let vault = try TestVault()
        let t0: Int64 = 1_800_000_000
        let nonces = try await NonceStore(store: vault.store, now: t0)
        for i in 0..<1000 {
            let now = t0 + Int64(i)
            try await withThrowingTaskGroup(of: Void.self) { g in
                for j in 0..<100 {
                    g.addTask { try await nonces.record(keyId: "k", nonce: "\(i)-\(j)", expiresAt: now + 300, now: now) }
                }
                try await g.waitForAll()
            }
        }
        let live = await nonces.window.seen.count
        #expect(live >= 30_000 && live <= 30_100, "\(live)")
    }
}
