import EdgeVaultCore
import EdgeVaultStore
import EdgeVaultServer
import EdgeVaultClient
import Foundation
import GRDB
import Testing

/// The `fragments.placed` leaves of `v`'s log, parsed.
func placedLeaves(_ v: VaultFixture) async throws -> [[String: Any]] {
    let page = try await AdminClient(socketPath: v.socket).leaves(from: 0, limit: 1000, type: "fragments.placed")
    return try page.leaves.map { try JSONSerialization.jsonObject(with: Data(Encoding.fromBase64($0.data)!)) as! [String: Any] }
}

/// The origin a member's log key names.
func origin(_ m: CircleMember) -> String { String(m.logKey.split(separator: "+")[0]) }

/// Ingests `batches` batches of `size` readings into `v`, one a second.
func ingestReadings(_ v: VaultFixture, batches: Int, size: Int = 500) async throws {
    let base = Timestamp.parseRFC3339("2026-10-01T00:00:00Z")!
    for n in 0..<batches {
        let body = Array((0..<size).map { "{\"stream\":\"s\",\"t\":\(base + Int64(n * size + $0) * 1000),\"v\":\(n * size + $0)}\n" }.joined().utf8)
        let r = try await v.cli(["ingest"], stdin: body)
        guard r.status == 0 else { throw HarnessError("ingest: \(r.stderr)") }
    }
}

/// `count` vaults in a circle, member `member` started with `toml` as its vaultd.toml.
func makeCircle(_ count: Int, configuring member: Int, toml: String) async throws -> [CircleMember] {
    try await makeCircle(count) { i, v in
        guard i == member else { return }
        v.configFile = v.root + "/vaultd.toml"
        try toml.write(toFile: v.configFile, atomically: true, encoding: .utf8)
    }
}

/// Every share of every leaf is on the peer the leaf names, with the hash it gives, two per peer
/// (never three) for 3-of-8 on four peers; no share shows the backup (the blob is encrypted whole:
/// neither the backup's magic nor SQLite's appears in any share).
func checkPlacement(_ leaves: [[String: Any]], peers: [CircleMember]) throws {
    let byOrigin = Dictionary(uniqueKeysWithValues: peers.map { (origin($0), $0) })
    for leaf in leaves {
        #expect(leaf["codec"] as? String == "rs-isal/1" && leaf["k"] as? Int == 3 && leaf["n"] as? Int == 8)
        let index = try #require(leaf["storageIndex"] as? String)
        let shares = try #require(leaf["shares"] as? [[String: Any]])
        #expect(shares.map { $0["n"] as! Int }.sorted() == Array(0..<8))
        var perPeer: [String: Int] = [:]
        for share in shares {
            let holder = try #require(byOrigin[share["peer"] as! String], "a share on a peer of the gateway")
            perPeer[holder.name, default: 0] += 1
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: holder.v.dataDir + "/shares/\(index).\(share["n"] as! Int)")))
            #expect(Encoding.base64(Hash.sha256(bytes)) == share["sha256"] as? String)
            #expect(bytes.count == ((leaf["size"] as! Int) + 2) / 3)
            for marker in ["SQLite format 3", "EDGEVAULT-BACKUP/1"] {
                #expect(!Data(bytes).contains(Data(marker.utf8)), "share \(share["n"]!) of \(index) shows \(marker)")
            }
        }
        #expect(perPeer.count == 4 && perPeer.values.allSatisfy { $0 == 2 }, "\(perPeer)")
    }
}

@Suite("End to end: fragments of the backup on four peers (3-of-8)", .serialized)
struct FragmentsEndToEndTests {
    @Test("fragments push places 3-of-8 sets on four peers, two shares each and never three; every share is where its leaf says, with its hash; after two more pushes the oldest one's shares are deleted from the peers")
    func pushPlacesEveryShareWhereItsLeafSays() async throws {
        let circle = try await makeCircle(5)
        let gateway = circle[0], peers = Array(circle.dropFirst())
        try await ingestReadings(gateway.v, batches: 10)
        let tooMany = try await gateway.v.cli(["fragments", "push", "--k", "2", "--n", "8"])
        #expect(tooMany.status == 1 && tooMany.stderr.contains("needs at least 8 peers"), "\(tooMany.stderr)")

        let push = try await gateway.v.cli(["fragments", "push", "--k", "3", "--n", "8", "--segment-bytes", "65536"])
        #expect(push.status == 0, "\(push.stderr)")
        let leaves = try await placedLeaves(gateway.v)
        #expect(leaves.count >= 2, "several segments: \(push.stdout)")
        #expect(push.stdout.contains("as \(leaves.count) set(s)"))
        #expect(push.stdout.split(separator: "\n").filter { $0.hasPrefix("set ") }.count == leaves.count, "one progress line per set")
        try checkPlacement(leaves, peers: peers)
        // The sets are the backup, cut in order.
        #expect(leaves.map { $0["segment"] as! Int } == Array(0..<leaves.count))
        #expect(leaves.allSatisfy { $0["segments"] as? Int == leaves.count })
        #expect(leaves.map { $0["size"] as! Int }.reduce(0, +) > 65536)
        let status = try await gateway.v.cli(["fragments", "status"])
        #expect(status.status == 0 && status.stdout.contains("not audited yet"), "\(status.stdout)")
        #expect(try await gateway.v.cli(["log", "verify", "--state", gateway.v.root + "/state.json"]).status == 0)

        // Two more pushes: the peers keep the newest two, and the first push's shares are deleted.
        for _ in 0..<2 { #expect(try await gateway.v.cli(["fragments", "push", "--segment-bytes", "65536"]).status == 0) }
        let firstIndexes = Set(leaves.map { $0["storageIndex"] as! String })
        let held = try peers.flatMap { try FileIO.list($0.v.dataDir + "/shares") }.filter { !$0.hasPrefix(".") }
        #expect(!held.contains { firstIndexes.contains(String($0.split(separator: ".")[0])) }, "the oldest push's shares are gone")
        let all = try await placedLeaves(gateway.v)
        let kept = Set(all.map { $0["storageIndex"] as! String }).subtracting(firstIndexes)
        #expect(Set(held.map { String($0.split(separator: ".")[0]) }) == kept, "the two newest pushes' shares are all there")
        #expect(held.count == 8 * kept.count)
        let after = try await gateway.v.cli(["fragments", "status"])
        let listedPushes: Set<String> = Set(after.stdout.split(separator: "\n").compactMap { line -> String? in
            let words = line.split(separator: " ")
            return words.count > 2 && words[1] == "push" ? String(words[2]) : nil
        })
        #expect(listedPushes.count == 2, "status lists two pushes: \(after.stdout)")
        #expect(all.count == leaves.count + kept.count, "the deleted sets' leaves stay in the log")
        for m in circle { try await m.v.stopDaemon() }
    }

    @Test("An audit finds a corrupted share, a peer answering with a wrong hash and a peer gone; the set left with k healthy shares is re-encoded onto the peers that answer and logged")
    func auditDetectsAndRepairs() async throws {
        let circle = try await makeCircle(5)
        let gateway = circle[0], peers = Array(circle.dropFirst())
        try await ingestReadings(gateway.v, batches: 4)
        #expect(try await gateway.v.cli(["fragments", "push", "--segment-bytes", "65536"]).status == 0)
        let leaves = try await placedLeaves(gateway.v)
        let clean = try await gateway.v.cli(["fragments", "audit"])
        #expect(clean.status == 0 && clean.stdout.contains("audited \(leaves.count) set(s): \(8 * leaves.count)/\(8 * leaves.count) shares healthy"), "\(clean.stdout)")

        // Set 0: one share of its first holder altered, both shares of its second altered (that
        // peer answers every audit with a wrong hash), its third holder gone: 3 = k healthy.
        let first = leaves[0], index = first["storageIndex"] as! String
        let shares = first["shares"] as! [[String: Any]]
        let byOrigin = Dictionary(uniqueKeysWithValues: peers.map { (origin($0), $0) })
        var holders: [String] = []
        for s in shares where !holders.contains(s["peer"] as! String) { holders.append(s["peer"] as! String) }
        func corrupt(_ peer: String, _ n: Int) throws {
            let path = byOrigin[peer]!.v.dataDir + "/shares/\(index).\(n)"
            var bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            bytes[bytes.count / 2] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: path))
        }
        let sharesOf = { (peer: String) in shares.filter { $0["peer"] as! String == peer }.map { $0["n"] as! Int } }
        try corrupt(holders[0], sharesOf(holders[0])[0])
        for n in sharesOf(holders[1]) { try corrupt(holders[1], n) }
        try await byOrigin[holders[2]]!.v.stopDaemon()

        let audit = try await gateway.v.cli(["fragments", "audit"])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
        #expect(audit.stdout.contains("repaired: \(index) re-encoded as"), "\(audit.stdout)")
        #expect(audit.stdout.components(separatedBy: "failed: \(index)/").count - 1 == 5, "three altered shares and two unreachable: \(audit.stdout)")
        #expect(audit.stdout.contains("the audit answer is wrong"))

        // The new set: logged with `replaces`, the same bytes, 3-of-6 on the three peers that answer, two each.
        let after = try await placedLeaves(gateway.v)
        let repaired = try #require(after.last)
        #expect(after.count == leaves.count + 1)
        #expect(repaired["replaces"] as? String == index && repaired["sha256"] as? String == first["sha256"] as? String)
        #expect(repaired["k"] as? Int == 3 && repaired["n"] as? Int == 6)
        var perPeer: [String: Int] = [:]
        for s in repaired["shares"] as! [[String: Any]] {
            let peer = s["peer"] as! String
            #expect(peer != holders[2], "nothing placed on the peer that is gone")
            perPeer[peer, default: 0] += 1
            let bytes = try Data(contentsOf: URL(fileURLWithPath: byOrigin[peer]!.v.dataDir + "/shares/\(repaired["storageIndex"] as! String).\(s["n"] as! Int)"))
            #expect(Encoding.base64(Hash.sha256([UInt8](bytes))) == s["sha256"] as? String)
        }
        #expect(perPeer.count == 3 && perPeer.values.allSatisfy { $0 == 2 }, "\(perPeer)")

        let again = try await gateway.v.cli(["fragments", "audit"])
        #expect(again.status == 0 && !again.stdout.contains("repaired"), "\(again.stdout)")
        #expect(!again.stdout.contains("failed: \(repaired["storageIndex"] as! String)"), "the new set is healthy")
        let status = try await gateway.v.cli(["fragments", "status"])
        #expect(status.stdout.contains("replaced by \(repaired["storageIndex"] as! String)"), "\(status.stdout)")
        #expect(try await gateway.v.cli(["log", "verify", "--state", gateway.v.root + "/state.json"]).status == 0)
        for m in circle { try await m.v.stopDaemon() }
    }

    @Test("The issue's scenario: 100,000 readings pushed 3-of-8 over four peers (two shares each, never three, every share where its leaf says, none showing the backup); two peers stopped, the gateway's data directory and key file gone; the key recovered from SLIP-0039 words typed in a PTY; fragments restore from the remaining peers: export equals the original, log verify passes against the state seen before, the restored vault audits its sets, and the log continues")
    func restoreFromTheRemainingPeers() async throws {
        let circle = try await makeCircle(5)
        let gateway = circle[0], peers = Array(circle.dropFirst())
        try await ingestReadings(gateway.v, batches: 20, size: 5000)
        let original = try await gateway.v.cli(["export", "--passphrase-file", gateway.v.passphraseFile])
        #expect(original.status == 0 && original.stdout.split(separator: "\n").count == 100_000, "\(original.stderr)")
        let sharesFile = gateway.v.root + "/shares.txt"
        #expect(try await RecoveryEndToEndTests.splitDefault(gateway.v, to: sharesFile).status == 0)
        let words = try RecoveryEndToEndTests.shares(sharesFile)
        let push = try await gateway.v.cli(["fragments", "push", "--k", "3", "--n", "8", "--segment-bytes", "1048576"])
        #expect(push.status == 0, "\(push.stderr)")
        let state = gateway.v.root + "/state.json"
        #expect(try await gateway.v.cli(["log", "verify", "--state", state]).status == 0)
        let leaves = try await placedLeaves(gateway.v)
        let sets = leaves.count
        #expect(sets >= 3, "several 1 MiB segments: \(push.stdout)")
        try checkPlacement(leaves, peers: peers)
        print("fragments restore test: \(push.stdout.split(separator: "\n").last ?? "")")

        try await gateway.v.stopDaemon()
        try await peers[2].v.stopDaemon()
        try await peers[3].v.stopDaemon()
        try FileManager.default.removeItem(atPath: gateway.v.dataDir)
        try FileManager.default.removeItem(atPath: gateway.v.keyFile)

        // The key, back from words typed at a terminal: two shares of the family group and the person's own.
        #expect(try await RecoveryEndToEndTests.recoverByTyping(gateway.v, shares: [words[1], words[3], words[0]]))
        let passphrase = gateway.v.root + "/new-passphrase"
        try Data((RecoveryEndToEndTests.newPassphrase + "\n").utf8).write(to: URL(fileURLWithPath: passphrase))

        let restore = try await gateway.v.cli(["fragments", "restore", "--from-peer", peers[0].url, "--passphrase-file", passphrase])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("\(sets) sets") && restore.stdout.contains("\(sets) log entries after the backup put back"), "\(restore.stdout)")
        let again = try await gateway.v.cli(["fragments", "restore", "--from-peer", peers[0].url, "--passphrase-file", passphrase])
        #expect(again.status == 1 && again.stderr.contains("refusing to overwrite"))

        try await gateway.v.startDaemon()
        let export = try await gateway.v.cli(["export", "--passphrase-file", passphrase])
        #expect(export.status == 0 && export.stdout == original.stdout, "export equals the original exactly")
        let verify = try await gateway.v.cli(["log", "verify", "--state", state])
        #expect(verify.status == 0, "the restored log is consistent with the one seen before: \(verify.stderr)")
        #expect(try await placedLeaves(gateway.v).count == sets)
        // The restored vault knows its sets: an audit reaches the two peers left (k + 1 = 4 healthy shares each, no repair needed).
        let audit = try await gateway.v.cli(["fragments", "audit"])
        #expect(audit.stdout.contains("audited \(sets) set(s): \(4 * sets)/\(8 * sets) shares healthy"), "\(audit.stdout) \(audit.stderr)")
        // The log continues from where it was.
        try await ingestReadings(gateway.v, batches: 1)
        _ = try await TestOrg(v: gateway.v).client.submit(try await TestOrg(v: gateway.v).request(id: "after-restore"))
        #expect(try await gateway.v.cli(["log", "verify", "--state", state]).status == 0)
        for m in circle { try await m.v.stopDaemon() }
    }

    @Test("A peer over its quota refuses its shares (507): with no other peer free to take them the push stops with one line naming the peer and its answer, and logs nothing")
    func peerRefusing() async throws {
        let circle = try await makeCircle(5, configuring: 4, toml: "[fragments]\nmax_bytes_per_peer = 100\n")
        let gateway = circle[0], full = circle[4]
        try await ingestReadings(gateway.v, batches: 2)
        let push = try await gateway.v.cli(["fragments", "push", "--k", "3", "--n", "8"])
        #expect(push.status == 1, "\(push.stdout)")
        #expect(push.stderr.contains("\(full.name) answered HTTP 507") && push.stderr.contains("at most 100 bytes"), "\(push.stderr)")
        #expect(try await placedLeaves(gateway.v).isEmpty)
        #expect(((try? FileIO.list(full.v.dataDir + "/shares")) ?? []).filter { !$0.hasPrefix(".") }.isEmpty, "nothing stored on the full peer")
        for m in circle { try await m.v.stopDaemon() }
    }

    @Test("With fragments.push_interval_seconds set, vaultd pushes by itself, 3-of-8 by default")
    func scheduledPush() async throws {
        let circle = try await makeCircle(5, configuring: 0, toml: "[fragments]\npush_interval_seconds = 1\n")
        var leaves: [[String: Any]] = []
        for _ in 0..<200 where leaves.isEmpty {
            leaves = try await placedLeaves(circle[0].v)
            try await Task.sleep(for: .milliseconds(50))
        }
        let first = try #require(leaves.first, "a push within 10 s")
        #expect(first["k"] as? Int == 3 && first["n"] as? Int == 8)
        for m in circle { try await m.v.stopDaemon() }
    }

    @Test("With fragments.push_after_bytes set, vaultd pushes once that much new data has come in since the last push, and not before")
    func pushAfterNewData() async throws {
        let circle = try await makeCircle(5, configuring: 0, toml: "[fragments]\npush_after_bytes = 1000000\npush_check_seconds = 1\n")
        let gateway = circle[0]
        // A fresh vault is far below 1 MB: two checks pass with no push.
        let first = try #require(try await waitForPush(gateway, after: 0, timeout: .seconds(3)) == nil ? 0 : nil, "no push before 1 MB of data")
        try await ingestReadings(gateway.v, batches: 12, size: 5000)
        let pushed = try #require(try await waitForPush(gateway, after: first, timeout: .seconds(30)), "a push once 1 MB came in")
        #expect(pushed >= 1)
        for m in circle { try await m.v.stopDaemon() }
    }
}


extension FragmentsEndToEndTests {
    @Test("A listing peer that withholds the newest push's sets cannot roll the restore back: the other holders' lists show it; when it cannot be rebuilt the restore refuses, naming --allow-older, which then restores the older push and warns what is lost")
    func newestPushWithheld() async throws {
        let circle = try await makeCircle(5)
        let gateway = circle[0], peers = Array(circle.dropFirst())
        try await ingestReadings(gateway.v, batches: 2)
        #expect(try await gateway.v.cli(["fragments", "push", "--segment-bytes", "65536"]).status == 0)
        let first = try await placedLeaves(gateway.v).count
        try await ingestReadings(gateway.v, batches: 2)
        #expect(try await gateway.v.cli(["fragments", "push", "--segment-bytes", "65536"]).status == 0)
        let newest = Array(try await placedLeaves(gateway.v).dropFirst(first))
        let newestPush = try #require(newest.first?["push"] as? String)
        let newestIndexes = newest.map { $0["storageIndex"] as! String }
        try await gateway.v.stopDaemon()
        try FileManager.default.removeItem(atPath: gateway.v.dataDir)

        // The peer asked first lists nothing of the newest push; the others' shares of it are gone.
        let db = try DatabaseQueue(path: peers[0].v.dataDir + "/vault.db")
        try await db.write { db in
            for index in newestIndexes { try db.execute(sql: "DELETE FROM held_set WHERE storageIndex = ?", arguments: [index]) }
        }
        for peer in peers.dropFirst() {
            for file in try FileIO.list(peer.v.dataDir + "/shares") where newestIndexes.contains(String(file.split(separator: ".")[0])) {
                try FileManager.default.removeItem(atPath: peer.v.dataDir + "/shares/" + file)
            }
        }
        let refused = try await gateway.v.cli(["fragments", "restore", "--from-peer", peers[0].url, "--passphrase-file", gateway.v.passphraseFile])
        #expect(refused.status == 1, "\(refused.stdout)")
        #expect(refused.stderr.contains("push \(newestPush)") && refused.stderr.contains("--allow-older"), "\(refused.stderr)")
        #expect(!FileManager.default.fileExists(atPath: gateway.v.dataDir + "/vault.db"), "nothing restored")

        let older = try await gateway.v.cli(["fragments", "restore", "--from-peer", peers[0].url, "--allow-older", "--passphrase-file", gateway.v.passphraseFile])
        #expect(older.status == 0, "\(older.stderr)")
        #expect(!older.stdout.contains("push \(newestPush)") && older.stderr.contains("older than the newest push \(newestPush)"), "\(older.stdout) \(older.stderr)")
        #expect(older.stdout.contains("from 4 peers' lists"), "all four peers answered: \(older.stdout)")
        for m in circle { try await m.v.stopDaemon() }
    }
}


extension FragmentsEndToEndTests {
    /// Removes the deposit of set `index` from every peer (as if its push had stopped before leaving it).
    func dropDeposit(_ index: String, from peers: [CircleMember]) async throws {
        for peer in peers {
            try await DatabaseQueue(path: peer.v.dataDir + "/vault.db").write { db in
                try db.execute(sql: "DELETE FROM held_set WHERE storageIndex = ?", arguments: [index])
            }
        }
    }

    @Test("A push that stopped half way is no backup: the next push keeps the last complete one on the peers (not the broken one), and a restore whose newest push is incomplete everywhere restores the newest complete one without --allow-older")
    func failedPushIsNoBackup() async throws {
        let circle = try await makeCircle(5)
        let gateway = circle[0], peers = Array(circle.dropFirst())
        func push() async throws -> [[String: Any]] {
            let before = try await placedLeaves(gateway.v).count
            let r = try await gateway.v.cli(["fragments", "push", "--segment-bytes", "65536"])
            #expect(r.status == 0, "\(r.stderr)")
            return Array(try await placedLeaves(gateway.v).dropFirst(before))
        }
        func held() throws -> Set<String> {
            Set(try peers.flatMap { try FileIO.list($0.v.dataDir + "/shares") }.filter { !$0.hasPrefix(".") }.map { String($0.split(separator: ".")[0]) })
        }
        try await ingestReadings(gateway.v, batches: 4)
        let a = try await push()
        try await ingestReadings(gateway.v, batches: 1)
        let b = try await push()
        #expect(a.count >= 2 && b.count >= 2)
        // B broke before its last set was recorded: the gateway has no row for it, no peer its deposit.
        let lastOfB = b.last!["storageIndex"] as! String
        try await DatabaseQueue(path: gateway.v.dataDir + "/vault.db").write { db in
            for table in ["fragment_challenge", "fragment_share", "fragment_set"] {
                try db.execute(sql: "DELETE FROM \(table) WHERE storageIndex = ?", arguments: [lastOfB])
            }
        }
        try await dropDeposit(lastOfB, from: peers)
        let c = try await push()
        let indexes = { (list: [[String: Any]]) in Set(list.map { $0["storageIndex"] as! String }) }
        let kept = try held()
        #expect(indexes(a).isSubset(of: kept), "the last complete push stays as the fallback")
        #expect(indexes(c).isSubset(of: kept))
        #expect(kept.isDisjoint(with: indexes(b).subtracting([lastOfB])), "the broken push is deleted from the peers")

        // Now C's last deposit is gone everywhere too: C is incomplete, A the newest complete push.
        try await dropDeposit(c.last!["storageIndex"] as! String, from: peers)
        try await gateway.v.stopDaemon()
        try FileManager.default.removeItem(atPath: gateway.v.dataDir)
        let restore = try await gateway.v.cli(["fragments", "restore", "--from-peer", peers[0].url, "--passphrase-file", gateway.v.passphraseFile])
        #expect(restore.status == 0, "\(restore.stderr)")
        #expect(restore.stdout.contains("push \(a[0]["push"] as! String)"), "\(restore.stdout)")
        for m in circle { try await m.v.stopDaemon() }
    }
}

/// The number of distinct pushes in `m`'s log once it exceeds `after`, waiting at most `timeout`; nil if it never does.
func waitForPush(_ m: CircleMember, after: Int, timeout: Duration) async throws -> Int? {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        let pushes = Set(try await placedLeaves(m.v).compactMap { $0["push"] as? String }).count
        if pushes > after { return pushes }
        try await Task.sleep(for: .milliseconds(100))
    }
    return nil
}
