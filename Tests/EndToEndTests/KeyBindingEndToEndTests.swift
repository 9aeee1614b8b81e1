import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Testing

private let base = sampleBase
private let hour: Int64 = 3_600_000

/// Readings every 10 minutes for 6 hours on two streams, all in the past.
private func ingestSample(_ v: VaultFixture) async throws { try await ingestTwoStreams(v) }

private func segments(_ v: VaultFixture, _ query: String = "") async throws -> [AdminAPI.Segment] {
    try JSONDecoder().decode(AdminAPI.Segments.self, from: Data(try await v.request("GET", "/v1/segments" + query).body)).segments
}

private func leaves(_ v: VaultFixture, type: String) async throws -> [JSONValue] {
    let page = try JSONDecoder().decode(AdminAPI.Leaves.self, from: Data(try await v.request("GET", "/v1/log/leaves?type=\(type)").body))
    return try page.leaves.map { try JSONValue.parse(Encoding.fromBase64($0.data) ?? []) }
}

/// `vault-cli approve` talking to `socket` instead of the vault's own admin socket.
private func approve(_ v: VaultFixture, _ id: String, socket: String) async throws -> RunResult {
    try await run(try Binaries.path("vault-cli"), ["approve", id, "--passphrase-file", v.passphraseFile, "--data-dir", v.dataDir,
                                                    "--admin-socket", socket, "--user-key", v.keyFile], environment: v.cliEnvironment)
}

/// Turns every sealed key of the (stopped) vault back into the earlier format (the DEK alone),
/// as a vault of an earlier version stored them.
private func makeUnbound(_ v: VaultFixture) async throws {
    var passphrase = Array(VaultFixture.passphrase.utf8)
    let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &passphrase))
    let db = try DatabaseQueue(path: v.dataDir + "/" + VaultStore.databaseFileName)
    try await db.write { db in
        for row in try Row.fetchAll(db, sql: "SELECT id, sealedKey FROM segment") {
            let opened = try SegmentKeySeal.open([UInt8](row["sealedKey"] as Data), keyPair: keys.box)
            let unbound = try SealedBox.seal(opened.dek, to: keys.box.publicKey)
            try db.execute(sql: "UPDATE segment SET sealedKey = ? WHERE id = ?", arguments: [Data(unbound), row["id"] as String])
        }
    }
    try db.close()
}

@Suite("End to end: segment keys bound to what they open", .serialized)
struct KeyBindingEndToEndTests {
    @Test("A daemon that offers keys of other streams, other buckets or under the wrong segment gets a one-line refusal and nothing is sent; an honest one gets exactly the keys shown and recorded")
    func lyingDaemonRefused() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        let request = AccessRequest(vault: try await o.origin(), id: "steps-1", orgName: "Acme", orgContact: "", streams: ["home/temp"],
                                    from: base + hour, to: base + 3 * hour, purpose: "one stream, two hours",
                                    deliveryKey: o.keys.delivery.publicKey, expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
        #expect(try await o.submit(request).status == "pending")
        let all = try await segments(v)
        let inScope = all.filter { $0.stream == "home/temp" && $0.startMs >= base + hour && $0.endMs <= base + 3 * hour }
        #expect(inScope.count == 2)
        let door = all.first { $0.stream == "home/door" && $0.startMs == base + hour }!
        let late = all.first { $0.stream == "home/temp" && $0.startMs == base + 5 * hour }!

        let lies: [(String, @Sendable ([AdminAPI.Segment]) -> [AdminAPI.Segment])] = [
            ("another stream's key listed as home/temp", { list in
                var fake = door
                fake.stream = "home/temp"
                return list + [fake]
            }),
            ("a later bucket's key listed as hour 1", { list in
                var fake = late
                fake.start = inScope[0].start
                fake.end = inScope[0].end
                fake.startMs = inScope[0].startMs
                fake.endMs = inScope[0].endMs
                return list + [fake]
            }),
            ("the two keys in scope swapped between their segments", { list in
                var l = list
                if let a = l.firstIndex(where: { $0.id == inScope[0].id }), let b = l.firstIndex(where: { $0.id == inScope[1].id }) {
                    (l[a].sealedKey, l[b].sealedKey) = (l[b].sealedKey, l[a].sealedKey)
                }
                return l
            }),
        ]
        let size = try await leaves(v, type: "grant.issued").count
        for (i, (what, lie)) in lies.enumerated() {
            let proxy = try AdminSocketProxy(path: v.root + "/proxy\(i).sock", upstream: v.socket) { body in
                guard let list = try? JSONDecoder().decode(AdminAPI.Segments.self, from: Data(body)) else { return body }
                return Array(try! JSONEncoder().encode(AdminAPI.Segments(segments: lie(list.segments))))
            }
            let r = try await approve(v, "steps-1", socket: proxy.path)
            proxy.stop()
            #expect(r.status != 0, "\(what): approved")
            #expect(r.stderr.hasPrefix("vault-cli: refusing to grant") && r.stderr.split(separator: "\n").count == 1, "\(what): \(r.stderr)")
            #expect(!proxy.requests.contains { $0.hasPrefix("POST /v1/decisions") }, "\(what): a decision was sent")
            #expect(try await o.status(id: "steps-1").status == "pending")
        }
        #expect(try await leaves(v, type: "grant.issued").count == size)

        // The same path, answers untouched: the count shown is the count sent and recorded.
        let honest = try AdminSocketProxy(path: v.root + "/honest.sock", upstream: v.socket) { $0 }
        let r = try await approve(v, "steps-1", socket: honest.path)
        honest.stop()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stdout.contains("granted steps-1: 2 segment key(s) re-sealed"), "\(r.stdout)")
        let issued = try await leaves(v, type: "grant.issued")
        #expect(issued.last?["segments"]?.numberText == "2")
        let page = try JSONValue.parse(try await o.send(.GET, "/v1/grants/steps-1/segments").body)
        guard case .array(let fetched)? = page["segments"] else { Issue.record("no segments: \(page)"); return }
        #expect(Set(fetched.compactMap { $0["id"]?.stringValue }) == Set(inScope.map(\.id)))
        try await v.stopDaemon()
    }

    @Test("Keys sealed in the earlier unbound format are bound by the person's CLI when it next unlocks, with a ledger leaf counting them; export and grants work after")
    func unboundKeysUpgraded() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let before = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(before.status == 0, "\(before.stderr)")
        #expect(try await segments(v, "?unbound=1").isEmpty, "new segments are sealed bound")
        let count = try await segments(v).count
        try await v.stopDaemon()

        try await makeUnbound(v)
        try await v.startDaemon()
        #expect(try await segments(v, "?unbound=1").count == count)

        let export = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(export.status == 0, "\(export.stderr)")
        #expect(export.stderr.contains("bound \(count) older segment key(s)"), "\(export.stderr)")
        #expect(export.stdout == before.stdout, "the export is unchanged")
        #expect(try await segments(v, "?unbound=1").isEmpty)
        let upgraded = try await leaves(v, type: "keys.upgraded")
        #expect(upgraded.count == 1 && upgraded[0]["count"]?.numberText == "\(count)")
        // Only once: the next unlock finds nothing to upgrade.
        let again = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(!again.stderr.contains("older segment key"))
        #expect(try await leaves(v, type: "keys.upgraded").count == 1)
        #expect(try await v.cli(["log", "verify", "--state", v.root + "/state.json"]).status == 0)
        try await v.stopDaemon()
    }

    @Test("Binding old keys, a daemon that relabels another stream's day-long segment, shifts a segment's bucket or hides its chunks gets those keys left unbound; the grant then leaves them out and sends only bound keys")
    func upgradeChecksWhatItCan() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        #expect(try await v.cli(["stream", "add", "home/day", "--bucket", "86400"]).status == 0)
        let day = (0..<6).map { "{\"stream\":\"home/day\",\"t\":\(base + Int64($0) * hour),\"v\":\($0)}\n" }.joined()
        #expect(try await v.cli(["ingest"], stdin: Array(day.utf8)).status == 0)
        let before = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        let o = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: OrgKeys.generate())
        let request = AccessRequest(vault: try await o.origin(), id: "temp-3h", orgName: "Acme", orgContact: "", streams: ["home/temp"],
                                    from: base, to: base + 3 * hour, purpose: "three hours", deliveryKey: o.keys.delivery.publicKey,
                                    expires: Timestamp.now() + 86_400_000, created: Timestamp.now())
        #expect(try await o.submit(request).status == "pending")
        let all = try await segments(v)
        let daySegment = all.first { $0.stream == "home/day" }!
        let temp = (0..<3).map { h in all.first { $0.stream == "home/temp" && $0.startMs == base + Int64(h) * hour }! }
        try await v.stopDaemon()
        try await makeUnbound(v)
        try await v.startDaemon()
        let org = try OrgClient(vaultURL: "http://127.0.0.1:\(v.publicPort)", keys: o.keys)  // the new port

        let (dayId, shiftedId, hiddenId) = (daySegment.id, temp[0].id, temp[2].id)
        let inScope = (temp[2].start, temp[2].end, temp[2].startMs, temp[2].endMs)
        let proxy = try AdminSocketProxy(path: v.root + "/lying.sock", upstream: v.socket) { path, body in
            if path.hasPrefix("/v1/segments/\(hiddenId)/chunks") { return Array("{\"chunks\":[],\"next\":null}".utf8) }
            guard path.hasPrefix("/v1/segments"), let list = try? JSONDecoder().decode(AdminAPI.Segments.self, from: Data(body)) else { return body }
            let lied = list.segments.map { s -> AdminAPI.Segment in
                var s = s
                if s.id == dayId {  // a day of another stream, listed as an hour of home/temp
                    s.stream = "home/temp"
                    (s.start, s.end, s.startMs, s.endMs) = inScope
                }
                if s.id == shiftedId {  // an hour of home/temp listed as a later hour
                    s.startMs += 5 * hour
                    s.endMs += 5 * hour
                }
                return s
            }
            return Array(try! JSONEncoder().encode(AdminAPI.Segments(segments: lied)))
        }
        let r = try await approve(v, "temp-3h", socket: proxy.path)
        proxy.stop()
        #expect(r.status == 0, "\(r.stderr)")
        #expect(r.stderr.contains("3 older segment key(s) could not be bound"), "\(r.stderr)")
        #expect(r.stdout.contains("granted temp-3h: 1 segment key(s) re-sealed"), "\(r.stdout)")
        #expect(r.stdout.contains("2 older segment(s) in range were left out"), "\(r.stdout)")
        let upgraded = try await leaves(v, type: "keys.upgraded")
        #expect(upgraded.last?["count"]?.numberText == "\(all.count - 3)")
        let unbound = Set(try await segments(v, "?unbound=1").map(\.id))
        #expect(unbound == [dayId, shiftedId, hiddenId])
        let page = try JSONValue.parse(try await org.send(.GET, "/v1/grants/temp-3h/segments").body)
        guard case .array(let fetched)? = page["segments"] else { Issue.record("no segments: \(page)"); return }
        #expect(fetched.compactMap { $0["id"]?.stringValue } == [temp[1].id], "only the key that was bound honestly")
        // The person's own export still opens every segment, bound or not.
        let after = try await v.cli(["export", "--passphrase-file", v.passphraseFile])
        #expect(after.status == 0 && after.stdout == before.stdout, "\(after.stderr)")
        try await v.stopDaemon()
    }

    @Test("POST /v1/segments/keys refuses garbage, unsigned bodies, a stranger's signature, stale documents and keys that are not bound, changing nothing; a replayed document replaces nothing and writes no leaf")
    func keyUpgradeHostileInput() async throws {
        let v = try VaultFixture()
        try await v.initVault()
        try await v.startDaemon()
        try await ingestSample(v)
        let before = try await segments(v)
        try await v.stopDaemon()
        try await makeUnbound(v)
        try await v.startDaemon()
        var passphrase = Array(VaultFixture.passphrase.utf8)
        let keys = try UserKeyFile.read(from: v.keyFile).unlock(passphrase: SecureBytes(wiping: &passphrase))
        let target = before[0]
        let bound = try SegmentKeySeal.seal(.random(count: 32), bound: .init(segment: target.id, stream: target.stream, start: target.startMs,
                                                                              end: target.endMs), to: keys.box.publicKey)
        func post(_ body: [UInt8]) async throws -> HTTPClient.Response { try await v.request("POST", "/v1/segments/keys", body: body) }
        let stranger = UserKeys(root: .random(count: 32))
        let hostile: [(String, [UInt8])] = [
            ("not JSON", Array("garbage".utf8)),
            ("unsigned JSON", Array(#"{"keys":[{"segment":"x","sealedKey":"AAAA"}]}"#.utf8)),
            ("a stranger's signature", KeyUpgrade.make(keys: [(target.id, bound)], at: Timestamp.now(), userKeys: stranger).serialized()),
            ("signed an hour ago", KeyUpgrade.make(keys: [(target.id, bound)], at: Timestamp.now() - 3_600_000, userKeys: keys).serialized()),
            ("an unbound-length key", KeyUpgrade.make(keys: [(target.id, try SealedBox.seal(.random(count: 32), to: keys.box.publicKey))],
                                                      at: Timestamp.now(), userKeys: keys).serialized()),
            ("over 1 MiB", [UInt8](repeating: 0x20, count: 1_100_000)),
        ]
        for (what, body) in hostile {
            let r = try await post(body)
            #expect(r.status == 400 || r.status == 413, "\(what): \(r.status)")
        }
        #expect(try await segments(v, "?unbound=1").count == before.count, "nothing changed")
        #expect(try await leaves(v, type: "keys.upgraded").isEmpty)
        // A signed document applied once, then replayed: the second replaces nothing, no leaf.
        let document = KeyUpgrade.make(keys: [(target.id, bound)], at: Timestamp.now(), userKeys: keys).serialized()
        #expect(try await post(document).status == 200)
        let replay = try JSONDecoder().decode(AdminAPI.KeyUpgradeResult.self, from: Data(try await post(document).body))
        #expect(replay.upgraded == 0 && replay.leafIndex == nil)
        #expect(try await leaves(v, type: "keys.upgraded").count == 1)
        #expect(try await v.request("GET", "/healthz").status == 200)
        try await v.stopDaemon()
    }
}
