import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import NIOHTTP1
import Testing

/// What a refused trust change must leave alone: the organizations' trust and names, the
/// ledger's size and every request's status.
private struct Snapshot: Equatable {
    var orgs: [String]
    var ledgerSize: Int64
    var requests: [String]

    static func take(_ v: VaultFixture) async throws -> Snapshot {
        let orgs = try JSONDecoder().decode(AdminAPI.Orgs.self, from: Data(try await v.request("GET", "/v1/orgs").body)).orgs
        let leaves = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?limit=1").body))
        let requests = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests").body)).requests
        return Snapshot(orgs: orgs.map { "\($0.keyId) \($0.trust) \($0.pinnedName ?? "-")" }.sorted(), ledgerSize: leaves.size,
                        requests: requests.map { "\($0.org) \($0.id) \($0.status)" }.sorted())
    }
}

/// Ledger leaves of one type (all pages), as JSON objects.
private func leaves(_ v: VaultFixture, type: String, org: String? = nil) async throws -> [JSONValue] {
    var out: [JSONValue] = []
    var from: Int64? = 0
    var pages = 0
    while let start = from, pages < 100 {
        pages += 1
        let path = "/v1/log/leaves?from=\(start)&limit=1000&type=\(type)" + (org.map { "&org=\($0)" } ?? "")
        let page = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", path).body))
        out += page.leaves.compactMap { Encoding.fromBase64($0.data).flatMap { try? JSONValue.parse($0) } }
        from = page.next
    }
    return out
}

private func personKeys(_ v: VaultFixture) throws -> UserKeys {
    var pass = Array(VaultFixture.passphrase.utf8)
    return try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &pass))
}

/// A trust-change body as a process on the gateway could send it on the admin socket.
private func body(_ change: JWS?, denials: [AdminAPI.Denial]? = nil) throws -> [UInt8] {
    Array(try JSONEncoder().encode(AdminAPI.TrustChangeInput(change: change.map { String(decoding: $0.serialized(), as: UTF8.self) } ?? "", denials: denials)))
}

@Suite("End to end: trust changes are the person's (signed pin, rename, block, unblock; batch denials)", .serialized)
struct TrustEndToEndTests {
    @Test("Unsigned, badly signed, wrong-key, mismatched, stale and replayed pin/block/unblock over the admin socket are refused with problem+json and change nothing")
    func unsignedRefused() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let org = TestOrg(v: v), other = TestOrg(v: v)
        #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "p1"))).status == 202)
        let origin = try await org.client.origin()
        let person = try personKeys(v)
        let intruder = UserKeys(root: SecureBytes.random(count: 32))
        let now = Timestamp.now()
        let k = org.keys.keyId
        func signed(_ action: TrustChange.Action, name: String? = nil, org: String? = nil, at: Int64 = Timestamp.now(), keys: UserKeys? = nil,
                    vault: String? = nil) -> JWS {
            TrustChange.make(vault: vault ?? origin, org: org ?? k, action: action, name: name, at: at, keys: keys ?? person)
        }
        // A pin applied once, to replay below.
        let applied = signed(.pin, name: "Acme (checked by phone)")
        #expect(try await v.request("POST", "/v1/orgs/\(k)/pin", body: try body(applied)).status == 200)
        let baseline = try await Snapshot.take(v)

        var tampered = signed(.pin, name: "Acme (checked by phone) 2")
        let bent = String(decoding: tampered.payload, as: UTF8.self).replacingOccurrences(of: "Acme (checked by phone) 2", with: "Dr. Alvarez (cardiology)")
        tampered = try JWS(json: Array(String(decoding: tampered.serialized(), as: UTF8.self)
            .replacingOccurrences(of: tampered.payloadB64, with: Encoding.base64url(Array(bent.utf8))).utf8))
        let forgedDenial = AdminAPI.Denial(id: "p1", protected: Encoding.base64url(Decision.header(kind: .deny, userKeyId: person.publicKeys.keyId,
                                                                                                   iat: now / 1000).serialized()),
                                           signature: Encoding.base64url([UInt8](repeating: 7, count: 64)))
        // Real co-signatures of the stored request, but a grant, or by another key.
        let stored = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests").body)).requests[0]
        func cosign(_ kind: Decision.Kind, _ keys: UserKeys) throws -> AdminAPI.Denial {
            var jws = try JWS(json: Array(stored.jws.utf8))
            jws.appendSignature(header: Decision.header(kind: kind, userKeyId: person.publicKeys.keyId, iat: now / 1000), keyPair: keys.signing)
            return AdminAPI.Denial(id: stored.id, protected: jws.signatures[1].protected, signature: Encoding.base64url(jws.signatures[1].signature))
        }
        let cases: [(String, String, [UInt8], Int, String)] = [
            ("a block with a grant signature as the denial", "/v1/orgs/\(k)/block", try body(signed(.block), denials: [try cosign(.grant, person)]), 400, "decision_invalid"),
            ("a block with a denial signed by another key", "/v1/orgs/\(k)/block", try body(signed(.block), denials: [try cosign(.deny, intruder)]), 400, "decision_invalid"),
            ("denials signed by another key", "/v1/orgs/\(k)/denials",
             Array(try JSONEncoder().encode(AdminAPI.DenyPendingInput(denials: [try cosign(.deny, intruder)]))), 400, "decision_invalid"),
            ("unsigned denials", "/v1/orgs/\(k)/denials", Array(#"{"ids":["p1"]}"#.utf8), 400, "bad_request"),
            ("the old unsigned pin", "/v1/orgs/\(k)/pin", Array(#"{"name":"Dr. Alvarez (cardiology)"}"#.utf8), 400, "trust_change_invalid"),
            ("an unsigned block", "/v1/orgs/\(k)/block", [], 400, "trust_change_invalid"),
            ("an unsigned unblock", "/v1/orgs/\(k)/unblock", Array("{}".utf8), 400, "trust_change_invalid"),
            ("not a JWS", "/v1/orgs/\(k)/block", try body(nil), 400, "trust_change_invalid"),
            ("signed by another key", "/v1/orgs/\(k)/pin", try body(signed(.pin, name: "Dr. Alvarez", keys: intruder)), 400, "trust_change_invalid"),
            ("a tampered payload", "/v1/orgs/\(k)/pin", try body(tampered), 400, "trust_change_invalid"),
            ("signed for another organization", "/v1/orgs/\(other.keys.keyId)/block", try body(signed(.block)), 400, "trust_change_invalid"),
            ("signed as a block, sent as an unblock", "/v1/orgs/\(k)/unblock", try body(signed(.block)), 400, "trust_change_invalid"),
            ("signed for another vault", "/v1/orgs/\(k)/pin", try body(signed(.pin, name: "X", vault: "edgevault.local/elsewhere")), 400, "trust_change_invalid"),
            ("stale: signed ten minutes ago", "/v1/orgs/\(k)/block", try body(signed(.block, at: now - 600_000)), 409, "trust_change_stale"),
            ("replayed", "/v1/orgs/\(k)/pin", try body(applied), 409, "trust_change_stale"),
            ("a block that leaves a pending request", "/v1/orgs/\(k)/block", try body(signed(.block)), 409, "pending_changed"),
            ("a block with a forged denial", "/v1/orgs/\(k)/block", try body(signed(.block), denials: [forgedDenial]), 400, "decision_invalid"),
            ("an unblock of a key that is not blocked", "/v1/orgs/\(k)/unblock", try body(signed(.unblock)), 409, "trust_conflict"),
            ("not a key id", "/v1/orgs/nope/block", try body(signed(.block)), 400, "bad_request"),
        ]
        for (name, path, bytes, status, code) in cases {
            let r = try await v.request("POST", path, body: bytes)
            #expect(problem(r) == (status, code), "\(name): \(String(decoding: r.body, as: UTF8.self))")
            #expect(r.header("Content-Type") == "application/problem+json", "\(name)")
            #expect(try await Snapshot.take(v) == baseline, "\(name) changed nothing")
        }
        #expect(try await org.call(.GET, "/v1/requests/p1").status == 200, "the organization is not blocked")
        try await v.stopDaemon()
    }

    @Test("Signed pin, rename, block and unblock from vault-cli work, are ledger leaves in log show and in trust show; the block denies the pending requests")
    func signedChanges() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let org = TestOrg(v: v)
        let k = org.keys.keyId
        let pass = ["--passphrase-file", v.passphraseFile]
        // Cheap checks come before the passphrase: no terminal and no passphrase file here,
        // so reaching the passphrase would fail differently.
        let unknown = try await v.cli(["trust", "block", "--", k])
        #expect(unknown.status != 0 && unknown.stderr.contains("no organization") && !unknown.stderr.contains("passphrase"), "\(unknown.stderr)")

        let add = try await v.cli(["trust", "add", "--name", "Acme (checked by phone)"] + pass + ["--", k])
        #expect(add.status == 0 && add.stdout.contains("pinned") && add.stdout.contains("org.pinned"), "\(add.stderr)")
        let again = try await v.cli(["trust", "add", "--name", "Acme (checked by phone)", "--", k])
        #expect(again.status != 0 && again.stderr.contains("already pinned") && !again.stderr.contains("passphrase"), "\(again.stderr)")
        let rename = try await v.cli(["trust", "add", "--name", "Acme Health"] + pass + ["--", k])
        #expect(rename.status == 0 && rename.stdout.contains("renamed"), "\(rename.stderr)")
        let badName = try await v.cli(["trust", "add", "--name", "Dr.\u{202E}ziravlA"] + pass + ["--", k])
        #expect(badName.status != 0 && badName.stderr.contains("bidirectional override"), "\(badName.stderr)")

        for id in ["b1", "b2", "b3"] {
            #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: id))).status == 202)
        }
        let block = try await v.cli(["trust", "block"] + pass + ["--", k])
        #expect(block.status == 0 && block.stdout.contains("blocked") && block.stdout.contains("3 pending request(s) denied"), "\(block.stdout)\(block.stderr)")
        let pending = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests?status=pending").body))
        #expect(pending.requests.isEmpty)
        #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "b4"))).status != 202, "a blocked key cannot ask")

        let unblock = try await v.cli(["trust", "unblock"] + pass + ["--", k])
        #expect(unblock.status == 0 && unblock.stdout.contains("unblocked") && unblock.stdout.contains("now pinned"), "\(unblock.stderr)")
        for id in ["b1", "b2", "b3"] {
            #expect(try await org.client.status(id: id).status == "denied", "the organization sees its request \(id) denied")
        }

        let log = try await v.cli(["log", "show", "--org", k])
        #expect(log.status == 0)
        for type in ["org.pinned", "org.renamed", "org.blocked", "org.unblocked"] {
            #expect(log.stdout.contains(type), "log show has \(type)")
        }
        #expect(log.stdout.components(separatedBy: "request.denied").count - 1 == 3)
        #expect(log.stdout.contains("name=Acme Health") && log.stdout.contains("previousName=Acme (checked by phone)") && log.stdout.contains("denied=3"))
        let show = try await v.cli(["trust", "show", "--", k])
        #expect(show.status == 0)
        #expect(show.stdout.contains("your trust changes (signed by you)"), "\(show.stdout)")
        #expect(show.stdout.contains("org.pinned \"Acme (checked by phone)\"") && show.stdout.contains("org.renamed \"Acme Health\" (was \"Acme (checked by phone)\")"))
        #expect(show.stdout.contains("org.blocked, 3 pending request(s) denied") && show.stdout.contains("org.unblocked"))
        #expect(show.stdout.contains("3 denied"), "the track record counts the block's denials: \(show.stdout)")
        // Each leaf is the hash of a document the person signed: the leaf says so.
        for leaf in try await leaves(v, type: "org.blocked", org: k) {
            #expect(leaf["changeSha256"]?.stringValue?.isEmpty == false && leaf["signedAt"]?.stringValue != nil)
        }
        let verify = try await v.cli(["log", "verify"])
        #expect(verify.status == 0, "\(verify.stderr)")
        try await v.stopDaemon()
    }

    @Test("A pin stored before trust changes were signed is shown as unsigned (trust list, trust show) until the person confirms it with a signed pin")
    func legacyPinShown() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        let k = TestOrg(v: v).keys.keyId
        // As the old unsigned endpoint left it.
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        try await db.write { db in
            try db.execute(sql: "INSERT INTO org (keyId, name, contact, trust, pinnedName, updatedAt) VALUES (?, '', '', 'pinned', 'Dr. Alvarez (cardiology)', 0)",
                           arguments: [k])
        }
        try db.close()
        try await v.startDaemon()
        let list = try await v.cli(["trust", "list"])
        #expect(list.stdout.contains("pinned (unsigned)"), "\(list.stdout)")
        let show = try await v.cli(["trust", "show", "--", k])
        #expect(show.stdout.contains("pinned before trust changes were signed"), "\(show.stdout)")
        let confirm = try await v.cli(["trust", "add", "--name", "Dr. Alvarez (cardiology)", "--passphrase-file", v.passphraseFile, "--", k])
        #expect(confirm.status == 0 && confirm.stdout.contains("org.pinned"), "\(confirm.stderr)")
        let after = try await v.cli(["trust", "list"])
        #expect(!after.stdout.contains("unsigned") && after.stdout.contains("pinned"), "\(after.stdout)")
        #expect(!(try await v.cli(["trust", "show", "--", k])).stdout.contains("warning"))
        try await v.stopDaemon()
    }

    @Test("A block while the organization keeps sending and withdrawing requests still succeeds, and none of that organization's requests stays pending")
    func blockUnderChurn() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let org = TestOrg(v: v)
        let origin = try await org.client.origin()
        for i in 0..<5 {
            #expect(try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: "early-\(i)", vault: origin))).status == 202)
        }
        // The organization sends as fast as it can, withdrawing its oldest request whenever it
        // hits its own limit, until it is refused for being blocked (bounded in count).
        let sender = Task { () throws -> (accepted: [String], calls: Int, stop: String) in
            var accepted: [String] = [], open: [String] = (0..<5).map { "early-\($0)" }
            var calls = 0
            while calls < 1000 {
                calls += 1
                let id = "churn-\(calls)"
                let r = try await org.call(.POST, "/v1/requests", body: org.submitBody(try await org.request(id: id, vault: origin)))
                if r.status == 202 {
                    accepted.append(id)
                    open.append(id)
                    continue
                }
                guard problem(r).1 == "too_many_pending", !open.isEmpty else { return (accepted, calls, problem(r).1) }
                calls += 1
                let w = try await org.call(.DELETE, "/v1/requests/\(open.removeFirst())")
                if w.status != 200 { return (accepted, calls, problem(w).1) }
            }
            return (accepted, calls, "bound")
        }
        let block = try await v.cli(["trust", "block", "--passphrase-file", v.passphraseFile, "--", org.keys.keyId])
        let sent = try await sender.value
        #expect(block.status == 0, "\(block.stderr)")
        #expect(sent.stop != "bound", "the sender was stopped by the block")
        let all = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests").body)).requests
        #expect(all.filter { $0.status == .pending }.isEmpty, "nothing pending after the block")
        #expect(Set(all.map(\.status)).isSubset(of: [.denied, .withdrawn]), "\(Set(all.map(\.status)))")
        print("block under churn: \(sent.calls) calls, \(sent.accepted.count) accepted while blocking; stopped by \(sent.stop); \(block.stdout)")
        try await v.stopDaemon()
    }

    @Test("200 pending requests from ten throwaway keys fill the vault (429 for a genuine organization); blocking them frees every slot at once")
    func pendingExhaustion() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        // The defaults: 20 per organization, 200 in all (Configuration).
        let perOrg = Configuration().maxPendingPerOrg, total = Configuration().maxPendingTotal
        let flood = (0..<(total / perOrg)).map { _ in TestOrg(v: v) }
        let genuine = TestOrg(v: v)
        let fillStart = ContinuousClock.now
        for (i, o) in flood.enumerated() {
            for j in 0..<perOrg {
                let r = try await o.call(.POST, "/v1/requests", body: o.submitBody(try await o.request(id: "junk-\(i)-\(j)")))
                #expect(r.status == 202, "\(String(decoding: r.body, as: UTF8.self))")
            }
        }
        let fill = ContinuousClock.now - fillStart
        let refused = try await genuine.call(.POST, "/v1/requests", body: genuine.submitBody(try await genuine.request(id: "real-1")))
        #expect(problem(refused) == (429, "too_many_pending"))

        let blockStart = ContinuousClock.now
        let block = try await v.cli(["trust", "block", "--passphrase-file", v.passphraseFile, "--"] + flood.map(\.keys.keyId))
        let blocking = ContinuousClock.now - blockStart
        #expect(block.status == 0, "\(block.stderr)")
        #expect(block.stdout.split(separator: "\n").filter { $0.contains("\(perOrg) pending request(s) denied") }.count == flood.count, "\(block.stdout)")
        let accepted = try await genuine.call(.POST, "/v1/requests", body: genuine.submitBody(try await genuine.request(id: "real-1")))
        #expect(accepted.status == 202, "the genuine organization's next request is accepted: \(String(decoding: accepted.body, as: UTF8.self))")
        #expect(try await leaves(v, type: "org.blocked").count == flood.count)
        #expect(try await leaves(v, type: "request.denied").count == total)
        let pending = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests?status=pending").body))
        #expect(pending.requests.map(\.id) == ["real-1"])
        try recordReliability("trust-exhaustion requests=\(total) keys=\(flood.count) fill=\(fill) block=\(blocking)")
        print("pending exhaustion: \(total) requests from \(flood.count) keys in \(fill); one `trust block` of all keys (one passphrase) in \(blocking)")
        try await v.stopDaemon()
    }

    @Test("deny --org KEY --all denies all of one organization's pending requests with one passphrase entry; other organizations' stay")
    func denyAll() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let a = TestOrg(v: v), b = TestOrg(v: v)
        for i in 0..<5 { #expect(try await a.call(.POST, "/v1/requests", body: a.submitBody(try await a.request(id: "a-\(i)"))).status == 202) }
        for i in 0..<2 { #expect(try await b.call(.POST, "/v1/requests", body: b.submitBody(try await b.request(id: "b-\(i)"))).status == 202) }
        let before = try await Snapshot.take(v)
        let pass = ["--passphrase-file", v.passphraseFile]

        // Bad input: one line, non-zero, nothing denied.
        for (args, needle) in [
            (["deny", "--all"] + pass, "--org"),
            (["deny", "a-0", "--all"] + pass + ["--org", a.keys.keyId], "not both"),
            (["deny", "--all"] + pass + ["--org", TestOrg(v: v).keys.keyId], "no organization"),
            (["deny", "--all"] + pass + ["--org", a.keys.keyId], "without confirmation"),
        ] {
            let r = try await v.cli(args)
            #expect(r.status != 0 && r.stderr.contains(needle), "\(args): \(r.stderr)")
            #expect(try await Snapshot.take(v) == before)
        }

        let r = try await v.cli(["deny", "--all", "--yes", "--reason", "not now"] + pass + ["--org", a.keys.keyId])
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("denied 5 pending request(s)"), "\(r.stdout)")
        #expect(r.stdout.components(separatedBy: "(request.denied)").count - 1 == 5)
        let denied = try await leaves(v, type: "request.denied", org: a.keys.keyId)
        #expect(denied.compactMap { $0["id"]?.stringValue }.sorted() == (0..<5).map { "a-\($0)" })
        #expect(denied.allSatisfy { $0["reason"]?.stringValue == "not now" })
        for i in 0..<5 { #expect(try await a.client.status(id: "a-\(i)").status == "denied") }
        let pending = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests?status=pending").body))
        #expect(pending.requests.map(\.id).sorted() == ["b-0", "b-1"], "the other organization's requests stay")
        let none = try await v.cli(["deny", "--all", "--yes"] + pass + ["--org", a.keys.keyId])
        #expect(none.status == 0 && none.stdout.contains("nothing to deny"))

        // On a terminal: the count, a confirmation, then the passphrase asked once for both requests.
        let session = try PTYSession(try Binaries.path("vault-cli"), ["deny", "--all", "--org", b.keys.keyId] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("Deny all 2 pending request(s)"))
        session.type("y\r")
        #expect(await session.expect("Passphrase for"))
        session.type(VaultFixture.passphrase + "\r")
        #expect(await session.expect("denied 2 pending request(s)"))
        #expect(await session.waitForExit() == 0)
        #expect(session.output.text.components(separatedBy: "Passphrase for").count - 1 == 1, "one passphrase entry")
        #expect(try await leaves(v, type: "request.denied").count == 7)
        try await v.stopDaemon()
    }
}
