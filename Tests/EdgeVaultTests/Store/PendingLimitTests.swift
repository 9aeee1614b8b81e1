import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("Pending-request limits")
struct PendingLimitTests {
    static func submit(_ store: VaultStore, keys: OrgKeys, id: String, now: Int64, limits: RequestLimits = RequestLimits()) async throws {
        let access = AccessRequest(vault: "edgevault.local/x", id: id, orgName: "Acme", orgContact: "", streams: ["a/b"], from: 0, to: 1000,
                                   purpose: "a test", deliveryKey: keys.delivery.publicKey, expires: now + 3_600_000, created: now)
        try await store.submitRequest(orgKeyId: keys.keyId, orgPublicKey: keys.signing.publicKey.bytes, request: access,
                                payload: access.payload(), jws: [], limits: limits, now: now)
    }

    @Test("Pending requests of a blocked organization do not count against the vault-wide limit; the per-organization limit stays")
    func blockedDoNotCount() async throws {
        let vault = try TestVault()
        let now = Timestamp.now()
        let limits = RequestLimits(maxPendingPerOrg: 2, maxPendingTotal: 4)
        let flood = [OrgKeys.generate(), OrgKeys.generate()], genuine = OrgKeys.generate()
        for (i, k) in flood.enumerated() {
            try await Self.submit(vault.store, keys: k, id: "f\(i)a", now: now, limits: limits)
            try await Self.submit(vault.store, keys: k, id: "f\(i)b", now: now, limits: limits)
        }
        await #expect(throws: VaultError(.tooManyPending, "the vault has too many pending requests; try again later")) {
            try await Self.submit(vault.store, keys: genuine, id: "g1", now: now, limits: limits)
        }
        // Blocked without denying (as before signed blocks existed): still pending, no longer counted.
        for k in flood { try await vault.store.setTrust(keyId: k.keyId, trust: .blocked, name: nil, now: now) }
        #expect(try await vault.store.requests(status: .pending, now: now).count == 4)
        try await Self.submit(vault.store, keys: genuine, id: "g1", now: now, limits: limits)
        try await Self.submit(vault.store, keys: genuine, id: "g2", now: now, limits: limits)
        await #expect(throws: VaultError.self, "the per-organization limit stays") {
            try await Self.submit(vault.store, keys: genuine, id: "g3", now: now, limits: limits)
        }
    }
}
