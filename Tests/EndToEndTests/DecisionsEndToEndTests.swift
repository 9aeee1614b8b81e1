import CSodium
import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import NIOHTTP1
import Testing

private let base = sampleBase
private let hour: Int64 = 3_600_000

/// Readings every 10 minutes for 6 hours on two streams, all in the past.
private func ingestSample(_ v: VaultFixture) async throws { try await ingestTwoStreams(v) }

private func org(_ v: VaultFixture) -> OrgClient {
    try! OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
}

/// An organization whose keys are also in `<root>/<name>.key`, for `vault-cli org fetch`.
private func orgWithKeyFile(_ v: VaultFixture, _ name: String) throws -> OrgClient {
    try OrgKeys.generate().write(to: v.root + "/\(name).key", deliverySeed: SecureBytes.random(count: 32))
    return try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: try OrgKeys.read(from: v.root + "/\(name).key"))
}

private func ask(_ o: OrgClient, id: String, from: Int64, to: Int64, streams: [String] = ["home/temp"]) async throws -> AccessRequest {
    let r = AccessRequest(vault: try await o.origin(), id: id, orgName: "Org \(id)", orgContact: "", streams: streams, from: from, to: to,
                          purpose: "test", deliveryKey: o.keys.delivery.publicKey, expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
    #expect(try await o.submit(r).status == "pending")
    return r
}

private func b64url(_ s: String) -> Data? {
    var t = s.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
    while t.count % 4 != 0 { t += "=" }
    return Data(base64Encoded: t)
}

private func ledgerSize(_ v: VaultFixture) async throws -> Int64 {
    try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?limit=1").body)).size
}

@Suite("End to end: the person's decisions, co-signed and anchored", .serialized)
struct DecisionsEndToEndTests {
    @Test("Approve A, deny B: A's grant carries both signatures, verifies independently, has a receipt, and its keys open exactly the whole buckets in range")
    func approveAndDeny() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let a = org(v), b = org(v)
        // A asks for hours 1–3 (whole buckets), B for an overlapping range.
        _ = try await ask(a, id: "study-a", from: base + hour, to: base + 3 * hour + 1)
        _ = try await ask(b, id: "study-b", from: base, to: base + 2 * hour)
        let approved = try await v.cli(["approve", "study-a", "--passphrase-file", v.passphraseFile])
        #expect(approved.status == 0, "\(approved.stderr)")
        #expect(approved.stdout.contains("granted study-a: 2 segment key(s)"), "\(approved.stdout)")
        let denied = try await v.cli(["deny", "study-b", "--reason", "not this year", "--passphrase-file", v.passphraseFile])
        #expect(denied.status == 0, "\(denied.stderr)")
        #expect(try await a.status(id: "study-a").status == "granted")
        let bStatus = try await b.status(id: "study-b")
        #expect(bStatus.status == "denied" && bStatus.reason == "not this year")

        // The grant and its receipt, as A fetches them.
        let r = try await a.send(.GET, "/v1/grants/study-a")
        #expect(r.status == 200)
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(r.body)) as? [String: Any])
        let grant = try #require(doc["grant"] as? [String: Any])
        let sigs = try #require(grant["signatures"] as? [[String: String]])
        #expect(sigs.count == 2)
        let payload = try #require(grant["payload"] as? String)
        let vaultInfo = try JSONDecoder().decode(AdminAPI.VaultInfo.self, from: Data(try await v.request("GET", "/v1/vault").body))
        let store = try VaultStore(path: v.dataDir + "/vault.db")
        let userKey = [UInt8](try await store.vault().userSigningKey)
        for (i, s) in sigs.enumerated() {
            let headerData = try #require(b64url(s["protected"]!))
            let header = try #require(try JSONSerialization.jsonObject(with: headerData) as? [String: Any])
            let key: [UInt8] = i == 0 ? [UInt8](try #require(b64url((header["jwk"] as! [String: String])["x"]!))) : userKey
            if i == 1 {
                #expect(header["kid"] as? String == vaultInfo.userKeyId)
                #expect(header["decision"] as? String == "grant")
            }
            let input = Array((s["protected"]! + "." + payload).utf8)
            let sig = [UInt8](try #require(b64url(s["signature"]!)))
            #expect(crypto_sign_verify_detached(sig, input, UInt64(input.count), key) == 0, "signature \(i)")
        }
        let receiptData = try JSONSerialization.data(withJSONObject: try #require(doc["receipt"]))
        let receipt = try JSONDecoder().decode(Receipt.self, from: receiptData)
        let logKey = try SignedNote.Verifier(try await v.cli(["log", "key"]).stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        let verified = try receipt.verify(logKey: logKey)
        #expect(verified.leaf.type == "grant.issued" && verified.leaf.org == a.keys.keyId)

        // B cannot see A's grant.
        #expect(try await b.send(.GET, "/v1/grants/study-a").status == 404)

        // The sealed keys open with A's delivery key and decrypt exactly hours 1 and 2 of home/temp.
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        let readings: [Int64] = try await db.read { db in
            var out: [Int64] = []
            for row in try Row.fetchAll(db, sql: """
                SELECT s.id, s.ordinal, k.sealedKey FROM grant_key k JOIN segment s ON s.ordinal = k.segment WHERE k.grantId = 'study-a'
                """) {
                let dek = try SealedBox.open([UInt8](row["sealedKey"] as Data), keyPair: a.keys.delivery)
                for c in try Row.fetchAll(db, sql: "SELECT seq, ciphertext FROM chunk WHERE segment = ?", arguments: [row["ordinal"] as Int64]) {
                    let plain = try ChunkFormat.open([UInt8](c["ciphertext"] as Data), dek: dek, segmentId: row["id"], seq: c["seq"])
                    out += try ChunkFormat.readings(in: plain).map(\.t)
                }
            }
            return out.sorted()
        }
        #expect(readings == (6..<18).map { base + Int64($0) * 600_000 })
        let log = try await v.cli(["log", "show", "--type", "grant.issued"])
        #expect(log.stdout.contains("study-a"))
        #expect(try await v.cli(["log", "verify", "--state", v.root + "/state.json"]).status == 0)
        try await v.stopDaemon()
    }

    @Test("Forged decisions are refused and change nothing: another key, a changed payload, a non-pending request, a replay")
    func forgeries() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let a = org(v)
        _ = try await ask(a, id: "f1", from: base, to: base + 6 * hour)
        let pending = try JSONDecoder().decode(AdminAPI.Requests.self, from: Data(try await v.request("GET", "/v1/requests?status=pending").body)).requests[0]
        let stored = try JWS(json: Array(pending.jws.utf8))
        let vaultInfo = try JSONDecoder().decode(AdminAPI.VaultInfo.self, from: Data(try await v.request("GET", "/v1/vault").body))
        let sizeBefore = try await ledgerSize(v)

        func post(_ jws: JWS) async throws -> HTTPClient.Response {
            let input = AdminAPI.DecisionInput(org: a.keys.keyId, id: "f1", jws: String(decoding: jws.serialized(), as: UTF8.self), sealedKeys: [])
            return try await v.request("POST", "/v1/decisions", body: Array(try JSONEncoder().encode(input)))
        }
        func code(_ r: HTTPClient.Response) -> String { (try? JSONDecoder().decode(Problem.self, from: Data(r.body)))?.code ?? "?" }

        // Signed by another key claiming the person's kid.
        var other = stored
        other.appendSignature(header: Decision.header(kind: .deny, userKeyId: vaultInfo.userKeyId, iat: Timestamp.now() / 1000),
                              keyPair: SigningKeyPair.generate())
        let r1 = try await post(other)
        #expect(r1.status == 400 && code(r1) == "decision_invalid")
        // The person's real key file, but a payload changed by one byte.
        let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: { var p = Array(VaultFixture.passphrase.utf8); return SecureBytes(wiping: &p) }())
        var changedPayload = stored.payload
        changedPayload[changedPayload.count / 2] ^= 0x01
        var changed = try JWS(json: JWS.sign(payload: changedPayload, header: stored.signatures[0].header, keyPair: SigningKeyPair.generate()).serialized())
        changed.appendSignature(header: Decision.header(kind: .deny, userKeyId: vaultInfo.userKeyId, iat: Timestamp.now() / 1000), keyPair: keys.signing)
        let r2 = try await post(changed)
        #expect(r2.status == 400 && code(r2) == "decision_invalid")
        #expect(try await ledgerSize(v) == sizeBefore)
        #expect(try await a.status(id: "f1").status == "pending")

        // A genuine denial, then the same decision replayed.
        var genuine = stored
        genuine.appendSignature(header: Decision.header(kind: .deny, userKeyId: vaultInfo.userKeyId, iat: Timestamp.now() / 1000), keyPair: keys.signing)
        #expect(try await post(genuine).status == 200)
        let replay = try await post(genuine)
        #expect(replay.status == 409 && code(replay) == "not_pending")
        // A grant for the no-longer-pending request.
        var late = stored
        late.appendSignature(header: Decision.header(kind: .grant, userKeyId: vaultInfo.userKeyId, iat: Timestamp.now() / 1000), keyPair: keys.signing)
        let r4 = try await post(late)
        #expect(r4.status == 409 && code(r4) == "not_pending")
        #expect(try await a.status(id: "f1").status == "denied")
        #expect(try await ledgerSize(v) == sizeBefore + 1)
        try await v.stopDaemon()
    }

    @Test("Fail closed: when the ledger cannot be written, approval fails cleanly and no grant exists")
    func failClosed() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let a = org(v)
        _ = try await ask(a, id: "fc", from: base, to: base + 6 * hour)
        try await v.stopDaemon()
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        try await db.write { try $0.execute(sql: "CREATE TRIGGER ledger_down BEFORE INSERT ON ledger_leaf BEGIN SELECT RAISE(ABORT, 'ledger unavailable'); END") }
        try await v.startDaemon()
        let a2 = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: a.keys)
        let r = try await v.cli(["approve", "fc", "--passphrase-file", v.passphraseFile])
        #expect(r.status == 1)
        #expect(r.stderr.hasPrefix("vault-cli: ") && r.stderr.split(separator: "\n").count == 1, "\(r.stderr)")
        #expect(try await a2.status(id: "fc").status == "pending")
        #expect(try await a2.send(.GET, "/v1/grants/fc").status == 404)
        let grants: Int = try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grant_record") ?? -1 }
        #expect(grants == 0)
        try await v.stopDaemon()
    }
}

@Suite("End to end: organizations fetch exactly what was granted", .serialized)
struct FetchEndToEndTests {
    @Test("org fetch verifies the grant and receipt and writes exactly the granted readings; releases are logged; others get 404")
    func fetch() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let a = try orgWithKeyFile(v, "a")
        let b = org(v)
        _ = try await ask(a, id: "study-a", from: base + hour, to: base + 3 * hour + 1)
        _ = try await ask(b, id: "b-1", from: base, to: base + hour)
        #expect(try await v.cli(["approve", "study-a", "--passphrase-file", v.passphraseFile]).status == 0)

        let vaultURL = "http://127.0.0.1:\(v.publicPort)"
        let wrongKey = NoteKeys.verifierKey(name: "edgevault.local/whatever", publicKey: SigningKeyPair.generate().publicKey.bytes)
        let refused = try await v.cli(["org", "fetch", "study-a", "--vault", vaultURL, "--key", v.root + "/a.key", "--out", v.root + "/x.ndjson",
                                       "--log-key", wrongKey])
        #expect(refused.status == 1 && refused.stderr.contains("log key"), "\(refused.stderr)")

        let fetched = try await v.cli(["org", "fetch", "study-a", "--vault", vaultURL, "--key", v.root + "/a.key", "--out", v.root + "/a.ndjson"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        #expect(fetched.stdout.contains("fetched 12 new readings from 2 segments"), "\(fetched.stdout)")
        let lines = try String(contentsOfFile: v.root + "/a.ndjson", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(lines == (6..<18).map { "{\"stream\":\"home/temp\",\"t\":\(base + Int64($0) * 600_000),\"v\":\($0)}" })
        // Pins were recorded at first contact. A second fetch to the same file fetches only what
        // is new (here nothing): the file is unchanged and nothing is released twice.
        #expect(FileManager.default.fileExists(atPath: v.root + "/vault-pins"))
        let again = try await v.cli(["org", "fetch", "study-a", "--vault", vaultURL, "--key", v.root + "/a.key", "-o", v.root + "/a.ndjson"])
        #expect(again.status == 0 && again.stdout.contains("fetched 0 new readings") && again.stdout.contains("2 segments had nothing new"), "\(again.stdout)\(again.stderr)")
        #expect(try String(contentsOfFile: v.root + "/a.ndjson", encoding: .utf8).split(separator: "\n").map(String.init) == lines)
        let releases = try await v.cli(["log", "show", "--type", "data.released"])
        #expect(releases.stdout.split(separator: "\n").count == 2, "nothing released twice by the incremental fetch: \(releases.stdout)")
        // Downloading everything again into a new file: more pages released, the same readings.
        let fresh = try await v.cli(["org", "fetch", "study-a", "--vault", vaultURL, "--key", v.root + "/a.key", "-o", v.root + "/b.ndjson"])
        #expect(fresh.status == 0 && fresh.stdout.contains("fetched 12 new readings"), "\(fresh.stdout)\(fresh.stderr)")
        let grants = try await v.cli(["grants"])
        #expect(grants.stdout.contains("12 readings in 4 pages"), "\(grants.stdout)")
        // A file this fetch did not write is not appended to.
        try Data("someone else's\n".utf8).write(to: URL(fileURLWithPath: v.root + "/other.ndjson"))
        let foreign = try await v.cli(["org", "fetch", "study-a", "--vault", vaultURL, "--key", v.root + "/a.key", "-o", v.root + "/other.ndjson"])
        #expect(foreign.status == 1 && foreign.stderr.contains("exists"), "\(foreign.stderr)")
        #expect(try await b.send(.GET, "/v1/grants/study-a/segments").status == 404)
        #expect(try await b.send(.GET, "/v1/grants/study-a").status == 404)

        // Resume: as if a fetch had stopped after its first segment.
        let segments = try JSONDecoder().decode(OrgAPI.Segments.self, from: Data(try await a.send(.GET, "/v1/grants/study-a/segments").body)).segments
        let firstEnd = Timestamp.parseRFC3339(segments[0].end)!
        let firstLines = lines.filter { line in
            let t = Int64(line.split(separator: ",")[1].dropFirst(4))!
            return t < firstEnd
        }
        try Data((firstLines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: v.root + "/r.ndjson"))
        try Data(segments[0].id.utf8).write(to: URL(fileURLWithPath: v.root + "/r.ndjson.fetch-state"))
        let resumed = try await v.cli(["org", "fetch", "study-a", "--vault", vaultURL, "--key", v.root + "/a.key", "--out", v.root + "/r.ndjson"])
        #expect(resumed.status == 0 && resumed.stdout.contains("1 segment had nothing new"), "\(resumed.stdout) \(resumed.stderr)")
        #expect(try String(contentsOfFile: v.root + "/r.ndjson", encoding: .utf8).split(separator: "\n").map(String.init) == lines)
        #expect(FileManager.default.fileExists(atPath: v.root + "/r.ndjson.fetch-state"), "kept for the next incremental fetch")
        #expect(try await v.cli(["log", "verify", "--state", v.root + "/state.json"]).status == 0)
        try await v.stopDaemon()
    }
}

@Suite("End to end: ongoing grants, revocation, expiry and violations", .serialized)
struct OngoingGrantEndToEndTests {
    @Test("An ongoing grant receives readings ingested after approval; after revoke nothing more, fetches answer grant_revoked; expiry answers grant_expired")
    func ongoingRevokeExpire() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let now = Timestamp.now()
        let bucket = now / hour * hour
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"live/s\",\"t\":\(now),\"v\":1}\n".utf8)).status == 0)
        let a = try orgWithKeyFile(v, "a")
        _ = try await ask(a, id: "ongoing", from: bucket - hour, to: bucket + 48 * hour, streams: ["live/s"])
        let approved = try await v.cli(["approve", "ongoing", "--passphrase-file", v.passphraseFile])
        #expect(approved.status == 0, "\(approved.stderr)")
        // A reading after approval, in a bucket whose segment opens only now.
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"live/s\",\"t\":\(bucket + 2 * hour + 5),\"v\":2}\n".utf8)).status == 0)
        let url = "http://127.0.0.1:\(v.publicPort)"
        let first = try await v.cli(["org", "fetch", "ongoing", "--vault", url, "--key", v.root + "/a.key", "--out", v.root + "/1.ndjson"])
        #expect(first.status == 0, "\(first.stderr)")
        let got = try String(contentsOfFile: v.root + "/1.ndjson", encoding: .utf8).split(separator: "\n")
        #expect(got == ["{\"stream\":\"live/s\",\"t\":\(now),\"v\":1}", "{\"stream\":\"live/s\",\"t\":\(bucket + 2 * hour + 5),\"v\":2}"])
        // The same command again: only the readings added since are fetched, and appended.
        let added = "{\"stream\":\"live/s\",\"t\":\(now + 1),\"v\":4}\n{\"stream\":\"live/s\",\"t\":\(bucket + 2 * hour + 6),\"v\":5}\n"
        #expect(try await v.cli(["ingest"], stdin: Array(added.utf8)).status == 0)
        let releasedBefore = try await v.cli(["log", "show", "--type", "data.released"]).stdout.split(separator: "\n").count
        let second = try await v.cli(["org", "fetch", "ongoing", "--vault", url, "--key", v.root + "/a.key", "-o", v.root + "/1.ndjson"])
        #expect(second.status == 0 && second.stdout.contains("fetched 2 new readings"), "\(second.stdout)\(second.stderr)")
        let all = try String(contentsOfFile: v.root + "/1.ndjson", encoding: .utf8).split(separator: "\n").map(String.init)
        #expect(all.count == 4 && Array(all.prefix(2)) == got.map(String.init))
        #expect(Set(all.dropFirst(2)) == Set(added.split(separator: "\n").map(String.init)))
        let releasedAfter = try await v.cli(["log", "show", "--type", "data.released"]).stdout.split(separator: "\n").count
        #expect(releasedAfter - releasedBefore <= 2, "only the new pages are released: \(releasedAfter - releasedBefore)")

        let revoked = try await v.cli(["revoke", "ongoing", "--reason", "study over", "--passphrase-file", v.passphraseFile])
        #expect(revoked.status == 0, "\(revoked.stderr)")
        let db = try DatabaseQueue(path: v.dataDir + "/vault.db")
        let keysBefore: Int = try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grant_key") ?? 0 }
        #expect(try await v.cli(["ingest"], stdin: Array("{\"stream\":\"live/s\",\"t\":\(bucket + 3 * hour + 5),\"v\":3}\n".utf8)).status == 0)
        let keysAfter: Int = try await db.read { try Int.fetchOne($0, sql: "SELECT count(*) FROM grant_key") ?? 0 }
        #expect(keysAfter == keysBefore, "no new segment is sealed to a revoked grant")
        let refused = try await a.send(.GET, "/v1/grants/ongoing/segments")
        #expect(refused.status == 403 && String(decoding: refused.body, as: UTF8.self).contains("grant_revoked"))
        let cliRefused = try await v.cli(["org", "fetch", "ongoing", "--vault", url, "--key", v.root + "/a.key", "--out", v.root + "/2.ndjson"])
        #expect(cliRefused.status == 1 && cliRefused.stderr.contains("revoked"), "\(cliRefused.stderr)")
        let violations = try await v.cli(["log", "show", "--type", "org.violation"])
        #expect(violations.stdout.contains("fetch-after-revocation"))
        #expect(violations.stdout.split(separator: "\n").count == 1, "rate-limited to one per org per kind per minute")
        let grants = try await v.cli(["grants"])
        #expect(grants.stdout.contains("ongoing") && grants.stdout.contains("revoked"))
        #expect(try await v.cli(["log", "show", "--type", "grant.revoked"]).stdout.contains("study over"))

        // Expiry: a second grant whose time is up.
        _ = try await ask(a, id: "short", from: bucket - hour, to: bucket + hour, streams: ["live/s"])
        #expect(try await v.cli(["approve", "short", "--passphrase-file", v.passphraseFile]).status == 0)
        try await v.stopDaemon()
        try await db.write { try $0.execute(sql: "UPDATE grant_record SET expires = ? WHERE id = 'short'", arguments: [Timestamp.now() - 1000]) }
        try await v.startDaemon()
        let a2 = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: a.keys)
        let expired = try await a2.send(.GET, "/v1/grants/short/segments")
        #expect(expired.status == 403 && String(decoding: expired.body, as: UTF8.self).contains("grant_expired"))
        #expect(try await v.cli(["log", "verify", "--state", v.root + "/state.json"]).status == 0)
        try await v.stopDaemon()
    }
}

@Suite("End to end: the review prompt on a real terminal", .serialized)
struct ReviewEndToEndTests {
    @Test("Two organizations ask for overlapping ranges; typing in the prompt approves A and denies B; A fetches exactly its whole buckets")
    func reviewOnTerminal() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let a = try orgWithKeyFile(v, "a")
        let b = org(v)
        _ = try await ask(a, id: "study-a", from: base + hour + 60_000, to: base + 4 * hour, streams: ["home/temp", "home/door"])
        _ = try await ask(b, id: "study-b", from: base, to: base + 3 * hour)

        let session = try PTYSession(try Binaries.path("vault-cli"), ["review"] + v.globalArgs, environment: v.cliEnvironment)
        #expect(await session.expect("Passphrase for "))
        session.type(VaultFixture.passphrase + "\r")
        #expect(await session.expect("Request study-a"))
        #expect(await session.expect("[q]uit › "))
        let firstScreen = session.output.text
        #expect(firstScreen.contains("NEW organization"))
        #expect(firstScreen.contains("2026-11-01T02:00:00Z → 2026-11-01T04:00:00Z"), "whole buckets only")
        #expect(firstScreen.contains("4 segments, 24 readings"))
        session.type("a\r")
        #expect(await session.expect("Type yes to approve"))
        session.type("yes\r")
        #expect(await session.expect("granted study-a"))
        #expect(await session.expect("Request study-b"))
        #expect(await session.expect("[q]uit › ", after: "Request study-b"))
        session.type("d\r")
        #expect(await session.expect("reason (optional"))
        session.type("overlaps another study\r")
        #expect(await session.expect("denied study-b"))
        #expect(await session.expect("no more pending requests"))
        #expect(await session.waitForExit() == 0)
        #expect(!session.output.text.contains(VaultFixture.passphrase), "the passphrase is not echoed")

        #expect(try await a.status(id: "study-a").status == "granted")
        let bStatus = try await b.status(id: "study-b")
        #expect(bStatus.status == "denied" && bStatus.reason == "overlaps another study")
        #expect(try await b.send(.GET, "/v1/grants/study-a").status == 404)
        let fetched = try await v.cli(["org", "fetch", "study-a", "--vault", "http://127.0.0.1:\(v.publicPort)", "--key", v.root + "/a.key",
                                       "--out", v.root + "/a.ndjson"])
        #expect(fetched.status == 0, "\(fetched.stderr)")
        let lines = Set(try String(contentsOfFile: v.root + "/a.ndjson", encoding: .utf8).split(separator: "\n").map(String.init))
        var expected = Set<String>()
        for i in 12..<24 {
            let t = base + Int64(i) * 600_000
            expected.insert("{\"stream\":\"home/temp\",\"t\":\(t),\"v\":\(i)}")
            expected.insert("{\"stream\":\"home/door\",\"t\":\(t),\"v\":\"open\"}")
        }
        #expect(lines == expected)
        try await v.stopDaemon()
    }
}

@Suite("End to end: review --watch and trust show", .serialized)
struct WatchEndToEndTests {
    @Test("review --watch waits without polling and shows a request the moment it arrives; trust show prints the track record")
    func watch() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        let a = org(v)
        let session = try PTYSession(try Binaries.path("vault-cli"), ["review", "--watch", "--passphrase-file", v.passphraseFile] + v.globalArgs,
                                     environment: v.cliEnvironment)
        #expect(await session.expect("waiting for new requests"))
        _ = try await ask(a, id: "w-1", from: base, to: base + hour)
        #expect(await session.expect("Request w-1"))
        #expect(await session.expect("[q]uit › ", after: "Request w-1"))
        session.type("q\r")
        #expect(await session.waitForExit() == 0)
        let show = try await v.cli(["trust", "show", "--", a.keys.keyId])
        #expect(show.status == 0, "\(show.stderr)")
        #expect(show.stdout.contains("1 request, 0 granted") && show.stdout.contains("request.received  w-1"), "\(show.stdout)")
        try await v.stopDaemon()
    }
}
