import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Per-call lookups of signed calls: the organization-key cache and the hot reader")
struct HotLookupTests {
    static func submit(_ store: VaultStore, keys: OrgKeys, id: String, expires: Int64, now: Int64) async throws {
        let access = AccessRequest(vault: "edgevault.local/x", id: id, orgName: "Acme", orgContact: "", streams: ["a/b"], from: 0, to: 1000,
                                   purpose: "a test", deliveryKey: keys.delivery.publicKey, expires: expires, created: now)
        try await store.submitRequest(orgKeyId: keys.keyId, orgPublicKey: keys.signing.publicKey.bytes, request: access,
                                payload: access.payload(), jws: [], limits: RequestLimits(), now: now)
    }

    @Test("The cached organization key follows every write to the org table: first contact, blocking, pinning again")
    func cacheFollowsWrites() async throws {
        let vault = try TestVault()
        let keys = OrgKeys.generate()
        let now = Timestamp.now()
        #expect(try await vault.store.orgKey(keyId: keys.keyId) == nil, "a key never seen")

        // Pinned by id before any contact: known, no key yet, not blocked.
        try await vault.store.setTrust(keyId: keys.keyId, trust: .pinned, name: "Acme", now: now)
        #expect(try await vault.store.orgKey(keyId: keys.keyId) == OrgKey(publicKey: nil, isBlocked: false))
        // First contact stores the key: the cached "no key yet" must not survive it.
        try await Self.submit(vault.store, keys: keys, id: "r1", expires: now + 60_000, now: now)
        #expect(try await vault.store.orgKey(keyId: keys.keyId) == OrgKey(publicKey: keys.signing.publicKey.bytes, isBlocked: false))
        try await vault.store.setTrust(keyId: keys.keyId, trust: .blocked, name: nil, now: now)
        #expect(try await vault.store.orgKey(keyId: keys.keyId)?.isBlocked == true)
        try await vault.store.setTrust(keyId: keys.keyId, trust: .pinned, name: nil, now: now)
        #expect(try await vault.store.orgKey(keyId: keys.keyId)?.isBlocked == false)
    }

    @Test("A lookup that read the table before a change does not keep what it read")
    func raceWithWriter() throws {
        let cache = OrgKeyCache()
        var loads = 0
        let stale = OrgKey(publicKey: [1], isBlocked: false)
        // The writer's change lands between the read and the store of its result.
        let first = cache.lookup("k") {
            loads += 1
            cache.changed("k")
            return stale
        }
        #expect(first == stale, "the caller still gets what it read")
        _ = cache.lookup("k") { loads += 1; return OrgKey(publicKey: [1], isBlocked: true) }
        #expect(loads == 2, "the stale answer was not kept: the next lookup read again")
        let third = cache.lookup("k") { loads += 1; return nil }
        #expect(loads == 2 && third?.isBlocked == true, "an answer read without a change meanwhile is kept")
    }

    @Test("A request's status from the hot reader: pending, expired once past `expires` (without a write), other organizations' ids not found")
    func requestStatus() async throws {
        let vault = try TestVault()
        let keys = OrgKeys.generate(), other = OrgKeys.generate()
        let now = Timestamp.now()
        try await Self.submit(vault.store, keys: keys, id: "r1", expires: now + 60_000, now: now)
        #expect(try await vault.store.requestStatus(org: keys.keyId, id: "r1", now: now)?.status == "pending")
        #expect(try await vault.store.requestStatus(org: keys.keyId, id: "r1", now: now + 60_000)?.status == "expired")
        #expect(try await vault.store.requestStatus(org: other.keyId, id: "r1", now: now) == nil)
        #expect(try await vault.store.requestStatus(org: keys.keyId, id: "nope", now: now) == nil)
        // The hot reader sees writes made through the pool at once (its own connection, same file).
        try await vault.store.withdrawRequest(org: keys.keyId, id: "r1", now: now)
        #expect(try await vault.store.requestStatus(org: keys.keyId, id: "r1", now: now)?.status == "withdrawn")
    }
}
