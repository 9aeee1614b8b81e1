import Foundation
import Testing
@testable import EdgeVaultCore
@testable import EdgeVaultStore
@testable import EdgeVaultRecovery

@Suite("The person's signed recovery policy (edgevault.recovery-policy/v1), its leaf, and shares gathered one at a time")
struct RecoveryPolicyTests {
    static let vault = "edgevault.local/abcdefghijklmnop"
    static let at = Timestamp.parseRFC3339("2026-11-27T08:00:00Z")!
    static let defaults = [RecoveryPolicy.Group(threshold: 1, count: 1), .init(threshold: 2, count: 3), .init(threshold: 2, count: 3)]

    static func check(_ jws: JWS, _ keys: UserKeys) throws(JWS.Failure) -> RecoveryPolicy.Checked {
        try RecoveryPolicy.check(jws, userKeyId: keys.publicKeys.keyId, userKey: keys.signing.publicKey)
    }

    static func newKeys() -> UserKeys { UserKeys(root: SecureBytes.random(count: 32)) }

    @Test("Signed and checked: groups, thresholds, the passphrase flag and the time round-trip; the payload holds nothing else")
    func roundTrip() throws {
        let keys = Self.newKeys()
        let jws = RecoveryPolicy.make(vault: Self.vault, groupThreshold: 2, groups: Self.defaults, passphrase: false, at: Self.at, keys: keys)
        let parsed = try JWS(json: jws.serialized())
        #expect(try Self.check(parsed, keys) == RecoveryPolicy.Checked(vault: Self.vault, groupThreshold: 2, groups: Self.defaults, passphrase: false, at: Self.at))
        #expect(String(decoding: parsed.payload, as: UTF8.self)
            == #"{"at":"2026-11-27T08:00:00Z","groupThreshold":2,"groups":[{"count":1,"threshold":1},{"count":3,"threshold":2},{"count":3,"threshold":2}],"passphrase":false,"type":"edgevault.recovery-policy/v1","vault":"edgevault.local/abcdefghijklmnop"}"#)
    }

    @Test("Refused: another key's signature, a tampered payload, two signatures")
    func signatures() throws {
        let keys = Self.newKeys(), intruder = Self.newKeys()
        let own = RecoveryPolicy.make(vault: Self.vault, groupThreshold: 2, groups: Self.defaults, passphrase: false, at: Self.at, keys: intruder)
        #expect(throws: JWS.Failure.self) { try Self.check(own, keys) }
        let jws = RecoveryPolicy.make(vault: Self.vault, groupThreshold: 2, groups: Self.defaults, passphrase: false, at: Self.at, keys: keys)
        let bent = String(decoding: jws.payload, as: UTF8.self).replacingOccurrences(of: "\"groupThreshold\":2", with: "\"groupThreshold\":1")
        do {
            _ = try Self.check(JWS(payload: Array(bent.utf8), signatures: jws.signatures), keys)
            Issue.record("a tampered policy passed")
        } catch {
            #expect(error.detail.contains("does not verify"))
        }
        var twice = jws
        twice.appendSignature(header: jws.signatures[0].header, keyPair: keys.signing)
        #expect(throws: JWS.Failure.self) { try Self.check(twice, keys) }
    }

    @Test("Malformed payloads are refused with the rule they break",
          arguments: [
            (["groupThreshold": JSONValue.number("4")], "group threshold must be 1 to the number of groups"),
            (["groupThreshold": .number("0")], "group threshold must be 1 to the number of groups"),
            (["groupThreshold": .number("1.5")], "needs type"),
            (["groupThreshold": .string("2")], "needs type"),
            (["groups": .array([])], "group threshold must be 1"),
            (["groups": .array([.object(["threshold": .number("1"), "count": .number("3")]), .object(["threshold": .number("1"), "count": .number("1")])])],
             "group 1 is 1 of 3"),
            (["groups": .array([.object(["threshold": .number("3"), "count": .number("2")]), .object(["threshold": .number("1"), "count": .number("1")])])],
             "group 1 is 3 of 2"),
            (["groups": .array([.object(["threshold": .number("2"), "count": .number("17")]), .object(["threshold": .number("1"), "count": .number("1")])])],
             "group 1 is 2 of 17"),
            (["groups": .array([.object(["threshold": .number("1"), "count": .number("1"), "share": .string("x")]), .object(["threshold": .number("1"), "count": .number("1")])])],
             "each group of the recovery policy"),
            (["share": .string("academic acid …")], "unknown member share"),
            (["identifier": .number("1234")], "unknown member identifier"),
            (["passphrase": .string("hunter2")], "needs type"),
            (["type": .string("edgevault.peer/v1")], "needs type"),
            (["at": .string("yesterday")], "RFC 3339"),
          ] as [([String: JSONValue], String)])
    func malformed(_ fields: [String: JSONValue], _ expected: String) throws {
        let keys = Self.newKeys()
        var p: [String: JSONValue] = [
            "type": .string(RecoveryPolicy.type), "vault": .string(Self.vault), "groupThreshold": .number("2"),
            "groups": RecoveryPolicy.json([.init(threshold: 1, count: 1), .init(threshold: 2, count: 3)]),
            "passphrase": .bool(false), "at": .string("2026-11-27T08:00:00Z"),
        ]
        for (k, v) in fields { p[k] = v }
        let jws = JWS.sign(payload: JSONValue.object(p).serialized(),
                           header: .object(["alg": .string("Ed25519"), "kid": .string(keys.publicKeys.keyId)]), keyPair: keys.signing)
        do {
            _ = try Self.check(jws, keys)
            Issue.record("accepted: \(fields)")
        } catch {
            #expect(error.detail.contains(expected), "\(error.detail)")
        }
    }

    @Test("The store appends one recovery.policy leaf with groups and thresholds only, and refuses replays, stale policies and other vaults'")
    func store() async throws {
        let vault = try TestVault()
        let origin = try await vault.store.vault().origin
        let now = Timestamp.now()
        func policy(at: Int64, vault v: String = origin) -> RecoveryPolicy.Checked {
            RecoveryPolicy.Checked(vault: v, groupThreshold: 2, groups: Self.defaults, passphrase: true, at: at)
        }
        let index = try await vault.store.applyRecoveryPolicy(policy(at: now), jws: [1, 2, 3], now: now)
        let leaf = try #require(try await vault.store.leaf(at: index))
        let json = try JSONValue.parse(leaf)
        #expect(json["type"]?.stringValue == "recovery.policy" && json["groupThreshold"]?.numberText == "2")
        #expect(json["groups"] == RecoveryPolicy.json(Self.defaults) && json["passphrase"] == .bool(true))
        guard case .object(let o) = json else { Issue.record("not an object"); return }
        #expect(Set(o.keys) == ["type", "time", "salt", "groupThreshold", "groups", "passphrase", "policySha256", "signedAt"])
        await #expect(throws: VaultError.self, "a replay") { try await vault.store.applyRecoveryPolicy(policy(at: now), jws: [1], now: now + 1) }
        await #expect(throws: VaultError.self, "stale") {
            try await vault.store.applyRecoveryPolicy(policy(at: now - TrustChange.maxSkewMilliseconds - 10), jws: [1], now: now + 1)
        }
        await #expect(throws: VaultError.self, "another vault") {
            try await vault.store.applyRecoveryPolicy(policy(at: now + 5, vault: "edgevault.local/other"), jws: [1], now: now + 5)
        }
        #expect(try await vault.store.applyRecoveryPolicy(policy(at: now + 6), jws: [4], now: now + 6) == index + 1)
    }

    @Test("Shares one at a time: progress per group, a typo named by position, another set and a repeat refused, every share verified")
    func collector() throws {
        let root = SecureBytes.random(count: 32)
        let shares = try Slip39.split(secret: root, groupThreshold: 2, groups: [(1, 1), (2, 3), (2, 3)])
        var c = ShareCollector()
        try c.add(shares[1][0], label: "share 1")
        #expect(!c.isComplete && c.missing == "2 groups needed, 0 complete; group 2: 1 of 2 shares")
        #expect(throws: VaultError.self) { try c.add(shares[1][0], label: "again") }
        var words = shares[2][1].split(separator: " ").map(String.init)
        words[9] = words[9] == "academic" ? "acid" : "academic"
        do {
            try c.add(words.joined(separator: " "), label: "that share")
            Issue.record("a typo passed")
        } catch let e as VaultError {
            #expect(e.message.contains("word 10"), "\(e.message)")
        }
        let other = try Slip39.split(secret: SecureBytes.random(count: 32), groupThreshold: 2, groups: [(1, 1), (2, 3), (2, 3)])
        #expect(throws: VaultError.self) { try c.add(other[2][0], label: "foreign") }
        #expect(throws: VaultError.self) { try c.minimalSet() }
        try c.add(shares[1][2], label: "share 2")
        try c.add(shares[0][0], label: "share 3")
        #expect(c.isComplete)
        let combined = try Slip39.combine(mnemonics: try c.minimalSet())
        #expect(try Slip39.keyId(ofRoot: combined) == UserKeys(root: root).publicKeys.keyId)
        var all = ShareCollector()
        for (i, m) in shares.joined().enumerated() { try all.add(m, label: "line \(i + 1)") }
        #expect(try all.verifyAll().groupCount == 3)
    }

    @Test("verifyAll uses every share given: a share altered under a valid checksum, beyond its group's threshold, is caught; minimalSet alone would miss it")
    func verifyAllUsesEveryShare() throws {
        let shares = try Slip39.split(secret: SecureBytes.random(count: 32), groupThreshold: 2, groups: [(1, 1), (2, 3), (2, 3)])
        var altered = try Slip39Share.parse(shares[1][2], label: "share")
        altered.value[5] ^= 0x40
        var c = ShareCollector()
        for m in [shares[0][0], shares[1][0], shares[1][1], altered.words().joined(separator: " ")] { try c.add(m, label: "m") }
        _ = try Slip39.verify(mnemonics: try c.minimalSet())
        do {
            _ = try c.verifyAll()
            Issue.record("an altered share passed")
        } catch let e as VaultError {
            #expect(e.message.contains("group 2") && e.message.contains("digest"), "\(e.message)")
        }
    }
}
