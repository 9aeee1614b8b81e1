import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultServer
@testable import EdgeVaultClient
@testable import EdgeVaultTerminal

@Suite("The person's signed trust change (edgevault.trust/v1) and what the store does with it")
struct TrustChangeTests {
    static let vault = "edgevault.local/abcdefghijklmnop"
    static let orgKey = OrgKeys.generate().keyId
    static let at = Timestamp.parseRFC3339("2026-11-27T08:00:00Z")!

    static func person() -> SigningKeyPair { SigningKeyPair.generate() }

    static func check(_ jws: JWS, _ key: SigningKeyPair) throws(JWS.Failure) -> TrustChange.Checked {
        try TrustChange.check(jws, userKeyId: JWKThumbprint.ed25519(key.publicKey.bytes), userKey: key.publicKey)
    }

    @Test("Signed and checked: every action round-trips with vault, org, name and at")
    func signAndVerify() throws {
        let key = Self.person()
        for action in TrustChange.Action.allCases {
            let name = action == .pin ? "Dr. Alvarez (cardiology)" : nil
            let jws = TrustChange.make(vault: Self.vault, org: Self.orgKey, action: action, name: name, at: Self.at, signing: key)
            let parsed = try JWS(json: jws.serialized())
            let checked = try Self.check(parsed, key)
            #expect(checked == TrustChange.Checked(vault: Self.vault, org: Self.orgKey, action: action, name: name, at: Self.at))
            #expect(parsed.signatures.count == 1 && parsed.signatures[0].header["alg"]?.stringValue == "Ed25519")
            let payload = try JSONValue.parse(parsed.payload)
            #expect(payload["type"]?.stringValue == "edgevault.trust/v1" && payload["action"]?.stringValue == action.rawValue)
        }
    }

    @Test("Signed by another key (as the vault's kid, or under its own kid) is refused")
    func wrongKey() throws {
        let person = Self.person(), intruder = Self.person()
        let own = TrustChange.make(vault: Self.vault, org: Self.orgKey, action: .block, name: nil, at: Self.at, signing: intruder)
        #expect(throws: JWS.Failure.self) { try Self.check(own, person) }
        // The intruder's signature under the person's kid.
        var forged = JWS(payload: own.payload, signatures: [])
        forged.appendSignature(header: .object(["alg": .string("Ed25519"), "kid": .string(JWKThumbprint.ed25519(person.publicKey.bytes))]),
                               keyPair: intruder)
        do {
            _ = try Self.check(forged, person)
            Issue.record("a forged signature passed")
        } catch {
            #expect(error.detail.contains("does not verify"))
        }
    }

    @Test("A tampered payload (another org, another action, another name) no longer verifies")
    func tampered() throws {
        let key = Self.person()
        let jws = TrustChange.make(vault: Self.vault, org: Self.orgKey, action: .pin, name: "Dr. Alvarez", at: Self.at, signing: key)
        let other = OrgKeys.generate().keyId
        for (from, to) in [(Self.orgKey, other), ("\"pin\"", "\"block\""), ("Dr. Alvarez", "Dr. Evil")] {
            let text = String(decoding: jws.payload, as: UTF8.self).replacingOccurrences(of: from, with: to)
            #expect(text != String(decoding: jws.payload, as: UTF8.self))
            let bent = JWS(payload: Array(text.utf8), signatures: jws.signatures)
            #expect(throws: JWS.Failure.self, "\(to)") { try Self.check(bent, key) }
        }
        var twice = jws
        twice.appendSignature(header: jws.signatures[0].header, keyPair: key)
        #expect(throws: JWS.Failure.self) { try Self.check(twice, key) }
    }

    @Test("Malformed payloads are refused: unknown action, pin without name, name on a block, bad org id, bad names")
    func malformed() throws {
        let key = Self.person()
        func signed(_ fields: [String: JSONValue]) -> JWS {
            var p: [String: JSONValue] = ["type": .string(TrustChange.type), "vault": .string(Self.vault), "org": .string(Self.orgKey),
                                          "action": .string("pin"), "name": .string("Acme"), "at": .string("2026-11-27T08:00:00Z")]
            for (k, v) in fields { p[k] = v }
            return JWS.sign(payload: JSONValue.object(p).serialized(),
                            header: .object(["alg": .string("Ed25519"), "kid": .string(JWKThumbprint.ed25519(key.publicKey.bytes))]), keyPair: key)
        }
        #expect((try? Self.check(signed([:]), key)) != nil, "the baseline is valid")
        for good in ["Dr. Álvarez (cardiología)", "東京大学病院", "A", String(repeating: "x", count: 200)] {
            #expect((try? Self.check(signed(["name": .string(good)]), key))?.name == good, "\(good)")
        }
        for bad: [String: JSONValue] in [
            ["action": .string("trust")], ["name": .null], ["action": .string("block")], ["org": .string("short")],
            ["type": .string("edgevault.revocation/v1")], ["at": .string("yesterday")], ["name": .string("")],
            ["name": .string("Dr.\u{202E}ziravlA")], ["name": .string("Acme\u{1B}[2J")], ["name": .string("A\u{200B}")],
            ["name": .string("A" + String(repeating: "\u{0301}", count: 3000))], ["name": .string(String(repeating: "x", count: 201))],
        ] {
            #expect(throws: JWS.Failure.self, "\(bad)") { try Self.check(signed(bad), key) }
        }
    }

    // MARK: the store

    static func submit(_ store: VaultStore, keys: OrgKeys, id: String, now: Int64, limits: RequestLimits = RequestLimits()) async throws {
        let access = AccessRequest(vault: "edgevault.local/x", id: id, orgName: "Acme", orgContact: "", streams: ["a/b"], from: 0, to: 1000,
                                   purpose: "a test", deliveryKey: keys.delivery.publicKey, expires: now + 3_600_000, created: now)
        try await store.submitRequest(orgKeyId: keys.keyId, orgPublicKey: keys.signing.publicKey.bytes, request: access,
                                payload: access.payload(), jws: [], limits: limits, now: now)
    }

    static func change(_ vault: TestVault, _ org: String, _ action: TrustChange.Action, name: String? = nil, at: Int64) async throws -> TrustChange.Checked {
        let jws = TrustChange.make(vault: try await vault.store.vault().origin, org: org, action: action, name: name, at: at, keys: vault.keys)
        return try TrustChange.check(jws, userKeyId: vault.keys.publicKeys.keyId, userKey: vault.keys.signing.publicKey)
    }

    @Test("The store applies pin, rename, block (denying every pending request) and unblock with one leaf each, and refuses replays, stale and other vaults' changes")
    func store() async throws {
        let vault = try TestVault()
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        try await Self.submit(vault.store, keys: org, id: "r1", now: now)
        try await Self.submit(vault.store, keys: org, id: "r2", now: now)
        let pin = try await Self.change(vault, org.keyId, .pin, name: "Acme", at: now)
        let pinned = try await vault.store.applyTrustChange(pin, jws: [1], denials: [], now: now)
        #expect(pinned.kind == .orgPinned && pinned.denied.isEmpty)
        // The same document again, or one not newer, is a replay.
        await #expect(throws: VaultError(.trustChangeStale, "a trust change for this organization signed at \(Timestamp.rfc3339(milliseconds: now)) is already applied; this one is not newer (a replay?); sign a new one")) {
            try await vault.store.applyTrustChange(pin, jws: [1], denials: [], now: now + 1)
        }
        let rename = try await Self.change(vault, org.keyId, .pin, name: "Acme Health", at: now + 1)
        #expect(try await vault.store.applyTrustChange(rename, jws: [2], denials: [], now: now + 2).kind == .orgRenamed)
        // Stale: signed more than five minutes ago.
        let old = try await Self.change(vault, org.keyId, .block, at: now - TrustChange.maxSkewMilliseconds - 10)
        await #expect(throws: VaultError.self) { try await vault.store.applyTrustChange(old, jws: [3], denials: [], now: now + 3) }
        // Another vault's change.
        var foreign = try await Self.change(vault, org.keyId, .block, at: now + 3)
        foreign.vault = "edgevault.local/other"
        await #expect(throws: VaultError.self) { try await vault.store.applyTrustChange(foreign, jws: [3], denials: [], now: now + 3) }
        // A block must deny exactly the pending requests.
        let block = try await Self.change(vault, org.keyId, .block, at: now + 4)
        do {
            _ = try await vault.store.applyTrustChange(block, jws: [4], denials: [.init(id: "r1", reason: nil)], now: now + 4)
            Issue.record("a block that leaves r2 pending was applied")
        } catch let e as VaultError {
            #expect(e.code == .pendingChanged)
        }
        #expect(try await vault.store.org(keyId: org.keyId)?.trust == .pinned, "nothing changed")
        let blocked = try await vault.store.applyTrustChange(block, jws: [4], denials: [.init(id: "r1", reason: nil), .init(id: "r2", reason: "no")], now: now + 4)
        #expect(blocked.kind == .orgBlocked && blocked.denied.map(\.id) == ["r1", "r2"])
        #expect(try await vault.store.requests(status: .denied, now: now + 5).map(\.id).sorted() == ["r1", "r2"])
        #expect(try await vault.store.orgKey(keyId: org.keyId)?.isBlocked == true, "the signature check's cache follows")
        let unblock = try await Self.change(vault, org.keyId, .unblock, at: now + 5)
        #expect(try await vault.store.applyTrustChange(unblock, jws: [5], denials: [], now: now + 5).kind == .orgUnblocked)
        let after = try await vault.store.org(keyId: org.keyId)
        #expect(after?.trust == .pinned && after?.pinnedName == "Acme Health")
        let types = try await vault.store.read("t") { db in try String.fetchAll(db, sql: "SELECT type FROM ledger_leaf WHERE org = ? ORDER BY idx", arguments: [org.keyId]) }
        #expect(types == ["org.seen", "request.received", "request.received", "org.pinned", "org.renamed", "org.blocked",
                          "request.denied", "request.denied", "org.unblocked"])
    }

    @Test("A block with keepArrivals denies the listed requests and leaves the ones that arrived after the listing pending (uncounted), named in the answer and the leaf")
    func keepArrivals() async throws {
        let vault = try TestVault()
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        try await Self.submit(vault.store, keys: org, id: "listed", now: now)
        try await Self.submit(vault.store, keys: org, id: "late", now: now)
        let block = try await Self.change(vault, org.keyId, .block, at: now)
        await #expect(throws: VaultError.self, "without keepArrivals the late one refuses the block") {
            try await vault.store.applyTrustChange(block, jws: [1], denials: [.init(id: "listed", reason: nil)], now: now)
        }
        let r = try await vault.store.applyTrustChange(block, jws: [1], denials: [.init(id: "listed", reason: nil)], keepArrivals: true, now: now)
        #expect(r.denied.map(\.id) == ["listed"] && r.leftPending == ["late"])
        #expect(try await vault.store.requests(status: .pending, now: now).map(\.id) == ["late"])
        let leaf = try await vault.store.read("t") { db in try Data.fetchOne(db, sql: "SELECT data FROM ledger_leaf WHERE type = 'org.blocked'") }
        let json = try LedgerLeaf(bytes: [UInt8](try #require(leaf))).json
        #expect(json["denied"]?.numberText == "1" && json["leftPending"]?.numberText == "1")
        #expect(try await vault.store.denyPending(org: org.keyId, denials: [.init(id: "late", reason: nil)], now: now).denied.map(\.id) == ["late"])
    }

    @Test("keepArrivals leaves pending only requests that arrived while the block was signed; an older one refuses the block and nothing changes")
    func keepArrivalsOnlyNew() async throws {
        let vault = try TestVault()
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        try await Self.submit(vault.store, keys: org, id: "old", now: now - 36_000)
        let block = try await Self.change(vault, org.keyId, .block, at: now)
        await #expect(throws: VaultError.self) {
            try await vault.store.applyTrustChange(block, jws: [1], denials: [], keepArrivals: true, now: now)
        }
        #expect(try await vault.store.requests(status: .pending, now: now).map(\.id) == ["old"])
        #expect(try await vault.store.org(keyId: org.keyId)?.isBlocked == false)
    }

    @Test("A trust change dated more than a minute ahead is refused (it would make the next real change look stale)")
    func notFromTheFuture() async throws {
        let vault = try TestVault()
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        try await Self.submit(vault.store, keys: org, id: "r", now: now)
        let ahead = try await Self.change(vault, org.keyId, .block, at: now + 120_000)
        await #expect(throws: VaultError.self) {
            try await vault.store.applyTrustChange(ahead, jws: [1], denials: [.init(id: "r", reason: nil)], now: now)
        }
        let onTime = try await Self.change(vault, org.keyId, .block, at: now + 30_000)
        #expect(try await vault.store.applyTrustChange(onTime, jws: [2], denials: [.init(id: "r", reason: nil)], now: now).kind == .orgBlocked)
    }

    @Test("A pin made before trust changes were signed shows as unsigned until the person confirms it with a signed pin of the same name")
    func legacyPin() async throws {
        let vault = try TestVault()
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        try await vault.store.setTrust(keyId: org.keyId, trust: .pinned, name: "Dr. Alvarez", now: now)
        #expect(try await vault.store.signedPins().isEmpty)
        let confirm = try await Self.change(vault, org.keyId, .pin, name: "Dr. Alvarez", at: now)
        #expect(try await vault.store.applyTrustChange(confirm, jws: [1], denials: [], now: now).kind == .orgPinned)
        #expect(try await vault.store.signedPins() == [org.keyId])
        let again = try await Self.change(vault, org.keyId, .pin, name: "Dr. Alvarez", at: now + 1)
        await #expect(throws: VaultError(.trustConflict, "this organization is already pinned as \"Dr. Alvarez\"")) {
            try await vault.store.applyTrustChange(again, jws: [2], denials: [], now: now + 1)
        }
    }

    @Test("The review screen says \"pinned by you\" only for a signed pin; a pin from before signed trust changes is flagged unconfirmed")
    func reviewScreenPin() throws {
        let keys = OrgKeys.generate()
        let now = Timestamp.now()
        let access = AccessRequest(vault: "edgevault.local/x", id: "r1", orgName: "Dr. Alvarez (cardiology)", orgContact: "", streams: ["a/b"],
                                   from: 0, to: 1000, purpose: "p", deliveryKey: keys.delivery.publicKey, expires: now + 60_000, created: now)
        let summary = AdminAPI.RequestSummary(org: keys.keyId, id: "r1", status: .pending, streams: ["a/b"], from: "", to: "", expires: "",
                                              received: "", reason: nil, jws: "")
        func screen(pinSigned: Bool) -> String {
            let org = AdminAPI.Org(keyId: keys.keyId, fingerprint: "F", name: "Dr. Alvarez (cardiology)", pinnedName: "Dr. Alvarez",
                                   contact: "", trust: .pinned, firstSeen: nil, pinSigned: pinSigned)
            return ReviewScreen(request: summary, access: access, org: org, record: TrackRecord(), segments: 0, readings: 0,
                                ranges: access.streams.map { .init(stream: $0, start: 0, end: 1000) }, now: now).render()
        }
        #expect(screen(pinSigned: true).contains("(pinned by you; never granted anything)"), "a pinned key still says it was never granted")
        let unsigned = screen(pinSigned: false)
        #expect(!unsigned.contains("pinned by you") && unsigned.contains("before pins were signed: unconfirmed"), "\(unsigned)")
    }

    @Test("A key blocked ahead of contact and unblocked is not thereby known: with unknown organizations refused it still cannot ask")
    func unblockedStranger() async throws {
        let vault = try TestVault()
        let stranger = OrgKeys.generate()
        let now = Timestamp.now()
        _ = try await vault.store.applyTrustChange(try await Self.change(vault, stranger.keyId, .block, at: now), jws: [1], denials: [], now: now)
        _ = try await vault.store.applyTrustChange(try await Self.change(vault, stranger.keyId, .unblock, at: now + 1), jws: [2], denials: [], now: now + 1)
        #expect(try await vault.store.org(keyId: stranger.keyId)?.trust == .seen)
        let closed = RequestLimits(allowUnknownOrgs: false)
        do {
            try await Self.submit(vault.store, keys: stranger, id: "s1", now: now + 2, limits: closed)
            Issue.record("an unblocked stranger was accepted")
        } catch let e as VaultError {
            #expect(e.code == .unknownKey)
        }
        try await Self.submit(vault.store, keys: stranger, id: "s1", now: now + 2)
    }

    @Test("Batch denials: each pending request gets its leaf, no-longer-pending ones are skipped, an unknown id refuses the batch")
    func denyPending() async throws {
        let vault = try TestVault()
        let org = OrgKeys.generate()
        let now = Timestamp.now()
        for id in ["a", "b", "c"] { try await Self.submit(vault.store, keys: org, id: id, now: now) }
        try await vault.store.withdrawRequest(org: org.keyId, id: "b", now: now)
        await #expect(throws: VaultError.self) {
            try await vault.store.denyPending(org: org.keyId, denials: [.init(id: "a", reason: nil), .init(id: "zzz", reason: nil)], now: now)
        }
        #expect(try await vault.store.requests(status: .pending, now: now).map(\.id).sorted() == ["a", "c"], "nothing changed")
        let r = try await vault.store.denyPending(org: org.keyId, denials: ["a", "b", "c"].map { .init(id: $0, reason: nil) }, now: now)
        #expect(r.denied.map(\.id) == ["a", "c"] && r.skipped == ["b"])
        #expect(try await vault.store.requests(status: .pending, now: now).isEmpty)
    }
}
